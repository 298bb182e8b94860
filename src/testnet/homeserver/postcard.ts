/** The few postcard (serde) encodings the homeserver answers with: varints and strings. */
export class PostcardWriter {
  private readonly parts: number[] = [];

  varint(value: number | bigint): this {
    let rest = BigInt(value);
    do {
      let byte = Number(rest & 0x7fn);
      rest >>= 7n;
      if (rest > 0n) byte |= 0x80;
      this.parts.push(byte);
    } while (rest > 0n);
    return this;
  }

  raw(bytes: Uint8Array): this {
    this.parts.push(...bytes);
    return this;
  }

  string(text: string): this {
    const bytes = new TextEncoder().encode(text);
    return this.varint(bytes.length).raw(bytes);
  }

  bytes(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}
