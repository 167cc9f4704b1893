/** The package version, inlined by tsup at build time (see tsup.config.ts). */
declare const __TINYLLM_VERSION__: string;
