/** A batch deleting more than this share of a key's files … */
export const MASS_DELETE_FRACTION = 0.5;
/** … and at least this many, pauses the key until the user confirms. */
export const MASS_DELETE_MIN_FILES = 20;

/** True when applying `deletes` of `files` backed-up files looks like a homeserver wiping the user. */
export function isMassDelete(deletes: number, files: number): boolean {
  return deletes >= MASS_DELETE_MIN_FILES && deletes > files * MASS_DELETE_FRACTION;
}
