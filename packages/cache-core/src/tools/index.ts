export { deleteEntries, pruneEntries } from './delete-entries.js';
export { ImportFormatError, ListingUnsupportedError } from './errors.js';
export { EXPORT_FORMAT, EXPORT_VERSION, type ExportHeader, type ExportRecord, exportEntries } from './export-entries.js';
export { compileFilter, type EntryFilter } from './filter.js';
export { type ImportOptions, type ImportProblem, type ImportReport, type ImportSource, importEntries, splitLines } from './import-entries.js';
export { ENTRY_SORT_FIELDS, type EntrySortField, type ListEntriesOptions, listEntries, requireListing } from './list-entries.js';
