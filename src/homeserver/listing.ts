/** One page of a directory listing (protocol.md §5), parsed. */
export interface ListingPage {
  /** Entries of the user, as decoded paths (`/pub/a/b`; folders of a shallow listing end in `/`). */
  paths: string[];
  /** Lines that are not an entry of this user (another owner, not a pubky URI). */
  skipped: Array<{ text: string; reason: string }>;
  /** Every non-empty line as sent: the last one is the next page's `cursor`. */
  lines: string[];
}

/**
 * A listing body: lines `pubky://<user>/pub/…` joined by `\n` (no trailing newline on v0.6; a
 * trailing one, `\r\n` and blank lines are tolerated). Never throws; paths are not judged here —
 * the store decides what is safe to write.
 */
export function parseListing(text: string, user: string): ListingPage {
  const prefix = `pubky://${user}/`;
  const page: ListingPage = { paths: [], skipped: [], lines: [] };
  for (const raw of text.split('\n')) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line === '') continue;
    page.lines.push(line);
    if (line.startsWith(prefix)) page.paths.push(line.slice(prefix.length - 1));
    else {
      const shown = line.length > 200 ? `${line.slice(0, 200)}…` : line;
      page.skipped.push({ text: shown, reason: `listing entry not of user ${user}` });
    }
  }
  return page;
}
