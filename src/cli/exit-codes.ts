// Exit codes of `sergo` (DESIGN §2).
export const EXIT_OK = 0;
/** Unexpected exception: a bug in sergo. */
export const EXIT_INTERNAL_ERROR = 1;
/** Invalid input: bad rules, unreadable files, bad arguments, unwritable output. */
export const EXIT_INVALID_INPUT = 2;
