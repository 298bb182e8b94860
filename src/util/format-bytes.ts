// No imports: the dashboard's bundle uses it too, so sizes read the same in the terminal and the browser.

/** Formats a byte count for people: `1.5 MB` (powers of 1000, like most file managers). */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}
