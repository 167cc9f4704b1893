/** "340 ms", "2.1 s", "3 min 5 s", "2 h 4 min" for a duration in ms. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '0 ms';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const totalSeconds = Math.round(ms / 1000);
  if (totalSeconds < 3600) return `${Math.floor(totalSeconds / 60)} min ${totalSeconds % 60} s`;
  const totalMinutes = Math.round(totalSeconds / 60);
  if (totalMinutes < 48 * 60) return `${Math.floor(totalMinutes / 60)} h ${totalMinutes % 60} min`;
  return `${Math.round(totalMinutes / 60 / 24)} days`;
}

/** "512 B", "12.3 KiB", "4.0 MiB" for a byte count. */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 1024) return `${Math.max(0, Math.round(bytes || 0))} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

/** "1,234" with thousands separators. */
export function formatCount(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** "38.5%" for a ratio in [0, 1]. */
export function formatPercent(ratio: number): string {
  return `${(Number.isFinite(ratio) ? ratio * 100 : 0).toFixed(1)}%`;
}

/** "2025-11-26 06:12:03 (3 min ago)" for a time in ms since the epoch, in local time. */
export function formatTimestamp(ms: number, now: number = Date.now()): string {
  const d = new Date(ms);
  const pad = (n: number): string => String(n).padStart(2, '0');
  const stamp = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  const age = now - ms;
  return age >= 0 ? `${stamp} (${formatDuration(age)} ago)` : stamp;
}

/** "3600 s" for a TTL in seconds, "no expiry" for null. */
export function formatTtl(seconds: number | null): string {
  return seconds === null ? 'no expiry' : `${seconds} s`;
}
