import { compareUtf8 } from './webdav-path.js';

/** One user's stored paths, kept sorted by UTF-8 bytes so listings page in the homeserver's order. */
export class PathIndex<T> {
  private readonly entries = new Map<string, T>();
  private readonly sorted: string[] = [];

  get size(): number {
    return this.entries.size;
  }

  get(path: string): T | undefined {
    return this.entries.get(path);
  }

  set(path: string, value: T): void {
    if (!this.entries.has(path)) this.sorted.splice(this.lowerBound(path), 0, path);
    this.entries.set(path, value);
  }

  delete(path: string): boolean {
    if (!this.entries.delete(path)) return false;
    this.sorted.splice(this.lowerBound(path), 1);
    return true;
  }

  /** Paths starting with `prefix`, in order. */
  *withPrefix(prefix: string): Generator<string> {
    for (let i = this.lowerBound(prefix); i < this.sorted.length; i++) {
      const path = this.sorted[i] as string;
      if (!path.startsWith(prefix)) return;
      yield path;
    }
  }

  private lowerBound(path: string): number {
    let low = 0;
    let high = this.sorted.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (compareUtf8(this.sorted[mid] as string, path) < 0) low = mid + 1;
      else high = mid;
    }
    return low;
  }
}
