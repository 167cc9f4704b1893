import { TinyLLMError } from '../errors.js';

/** The backend cannot list its entries (no capabilities.lists), so the entry tools cannot run on it. */
export class ListingUnsupportedError extends TinyLLMError<'TINYLLM_LISTING_UNSUPPORTED'> {
  /** Name of the backend. */
  readonly backend: string;
  constructor(backend: string) {
    super('TINYLLM_LISTING_UNSUPPORTED', `the ${backend} backend cannot list its entries (capabilities.lists): use memory, SQLite or Redis`);
    this.backend = backend;
  }
  /** True for a ListingUnsupportedError from any copy of this package. */
  static override isInstance(error: unknown): error is ListingUnsupportedError {
    return TinyLLMError.isInstance(error) && error.code === 'TINYLLM_LISTING_UNSUPPORTED';
  }
}

/** An export file that is not one this version reads: no header line, another format, a newer version. */
export class ImportFormatError extends TinyLLMError<'TINYLLM_IMPORT_FORMAT'> {
  constructor(detail: string) {
    super('TINYLLM_IMPORT_FORMAT', `not a TinyLLM cache export this version reads: ${detail}`);
  }
  /** True for an ImportFormatError from any copy of this package. */
  static override isInstance(error: unknown): error is ImportFormatError {
    return TinyLLMError.isInstance(error) && error.code === 'TINYLLM_IMPORT_FORMAT';
  }
}
