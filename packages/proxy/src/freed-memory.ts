/**
 * glibc's malloc hands memory back to the kernel whenever the free space at the top of its heap
 * passes its trim threshold (128 KiB until told otherwise). A pass-through reads every 64 KiB of a
 * body into a new buffer; once a GC frees a few MiB of them, glibc returns those pages, and the next
 * reads fault every page back in. On the 2-vCPU bench VM a 32 MiB upload then cost the proxy
 * 2,600-7,100 page faults and about twice the CPU (100-170 ms against 40-60 ms), which decided
 * whether a large upload through it ran at 0.45x or 0.9x of a direct one.
 *
 * glibc raises the threshold by itself (to twice the chunk's size) the first time it frees a chunk
 * it had to mmap. Allocating one such chunk, never touched, and letting it go does that once, at
 * start: up to 64 MiB of freed buffers stay in the heap for the next reads (the peak RSS of a
 * 1 GiB upload grew 41-42 MiB with it, 37-39 MiB without). Where the user set malloc's thresholds
 * (MALLOC_TRIM_THRESHOLD_, GLIBC_TUNABLES), glibc keeps theirs.
 */

/**
 * Size of the one dropped allocation: glibc then keeps up to twice this free at the top of its heap.
 * Just under 32 MiB, the most glibc's dynamic threshold goes to. A process whose heap holds a memory
 * store collects less often and frees more at once: at 16 MiB it still faulted 450-2,000 pages per
 * 32 MiB upload on the bench VM, at this size none.
 */
const RETAINED_BYTES = 32 * 1024 * 1024 - 64 * 1024;

let applied: boolean | undefined;

/**
 * What getReport() puts in its JavaScript stack section. Without it, getReport() captures and
 * formats a stack of its own, and under source maps (`--enable-source-maps`, tsx) formatting it
 * parsed the proxy bundle's whole source map: about 20 MB kept on the JS heap for good (66,616
 * mappings in a heap snapshot of the bench's proxy), which every full GC then marked again.
 */
const NO_STACK: Error = { name: 'Error', message: 'glibc check', stack: 'glibc check' };

/** True when this process runs on glibc (the C library whose malloc trims this way). */
export function onGlibc(): boolean {
  if (process.platform !== 'linux') return false;
  const header = (process.report?.getReport(NO_STACK) as { header?: { glibcVersionRuntime?: string } } | undefined)?.header;
  return typeof header?.glibcVersionRuntime === 'string';
}

/**
 * Makes glibc keep freed body buffers for reuse instead of returning them to the kernel (see above).
 * Once per process; a no-op off glibc. Returns true when it applied (now or before).
 */
export function keepFreedMemoryForReuse(): boolean {
  if (applied === undefined) {
    applied = onGlibc();
    // Larger than malloc's mmap threshold, so glibc maps it; the GC frees it (its pages never
    // touched, so it costs no resident memory), and that free raises the thresholds.
    if (applied) Buffer.allocUnsafeSlow(RETAINED_BYTES);
  }
  return applied;
}
