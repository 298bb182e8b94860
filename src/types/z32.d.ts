declare module 'z32' {
  export const ALPHABET: string;
  export function encode(bytes: Uint8Array): string;
  export function decode(text: string, out?: Uint8Array): Uint8Array;
}
