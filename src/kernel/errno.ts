/**
 * DOC: errno values (x86 numbering) the module loader returns, and their names.
 */
export const EPERM = 1;
export const ENOENT = 2;
export const EINTR = 4;
export const EIO = 5;
export const ENOEXEC = 8;
export const EBADF = 9;
export const EAGAIN = 11;
export const EWOULDBLOCK = EAGAIN;
export const ENOMEM = 12;
export const EACCES = 13;
export const EFAULT = 14;
export const EBUSY = 16;
export const EEXIST = 17;
export const ENODEV = 19;
export const EINVAL = 22;
export const ENOSPC = 28;
export const ETXTBSY = 26;
export const EFBIG = 27;
export const ERANGE = 34;
export const ENAMETOOLONG = 36;
export const ENOSYS = 38;
export const ENODATA = 61;
export const ETIME = 62;
export const ENOPKG = 65;
export const EOPNOTSUPP = 95;
export const ENOKEY = 126;
export const EKEYREJECTED = 129;
/** kernel-internal: a signal interrupted the call (userspace sees EINTR or a restart) */
export const ERESTARTSYS = 512;

/** name and strerror(3) text (glibc's wording) of every errno the model uses */
const ERRNO_TABLE: ReadonlyArray<readonly [number, string, string]> = [
  [EPERM, 'EPERM', 'Operation not permitted'],
  [ENOENT, 'ENOENT', 'No such file or directory'],
  [EINTR, 'EINTR', 'Interrupted system call'],
  [EIO, 'EIO', 'Input/output error'],
  [ENOEXEC, 'ENOEXEC', 'Exec format error'],
  [EBADF, 'EBADF', 'Bad file descriptor'],
  [EAGAIN, 'EAGAIN', 'Resource temporarily unavailable'],
  [ENOMEM, 'ENOMEM', 'Cannot allocate memory'],
  [EACCES, 'EACCES', 'Permission denied'],
  [EFAULT, 'EFAULT', 'Bad address'],
  [EBUSY, 'EBUSY', 'Device or resource busy'],
  [EEXIST, 'EEXIST', 'File exists'],
  [ENODEV, 'ENODEV', 'No such device'],
  [EINVAL, 'EINVAL', 'Invalid argument'],
  [ETXTBSY, 'ETXTBSY', 'Text file busy'],
  [EFBIG, 'EFBIG', 'File too large'],
  [ENOSPC, 'ENOSPC', 'No space left on device'],
  [ERANGE, 'ERANGE', 'Numerical result out of range'],
  [ENAMETOOLONG, 'ENAMETOOLONG', 'File name too long'],
  [ENOSYS, 'ENOSYS', 'Function not implemented'],
  [ENODATA, 'ENODATA', 'No data available'],
  [ETIME, 'ETIME', 'Timer expired'],
  [ENOPKG, 'ENOPKG', 'Package not installed'],
  [EOPNOTSUPP, 'EOPNOTSUPP', 'Operation not supported'],
  [ENOKEY, 'ENOKEY', 'Required key not available'],
  [EKEYREJECTED, 'EKEYREJECTED', 'Key was rejected by service'],
  [ERESTARTSYS, 'ERESTARTSYS', 'Unknown error 512'],
];
const NAMES: Record<number, string> = Object.fromEntries(ERRNO_TABLE.map(([n, name]) => [n, name]));
const TEXTS: Record<number, string> = Object.fromEntries(ERRNO_TABLE.map(([n, , text]) => [n, text]));

/** whether `n` (positive) is an errno of the model's set */
export function isKnownErrno(n: number): boolean {
  return Number.isInteger(n) && NAMES[n] !== undefined;
}

/** "EEXIST" for -17 or 17; "0" for 0; "E123" for unknown numbers */
export function errnoName(n: number): string {
  if (n === 0) return '0';
  const a = Math.abs(n);
  return NAMES[a] ?? `E${a}`;
}

/** strerror(3): "File exists" for -17 or 17; "Unknown error N" for numbers it does not know */
export function strerror(n: number): string {
  const a = Math.abs(n);
  return TEXTS[a] ?? `Unknown error ${a}`;
}

/** the errno name whose strerror text `text` contains (to read a program's error message), or null */
export function errnoFromText(text: string): string | null {
  for (const [, name, t] of ERRNO_TABLE) if (text.includes(t)) return name;
  return null;
}
