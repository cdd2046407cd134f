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

const NAMES: Record<number, string> = {
  [EPERM]: 'EPERM', [ENOENT]: 'ENOENT', [EINTR]: 'EINTR', [EIO]: 'EIO', [ENOEXEC]: 'ENOEXEC',
  [EBADF]: 'EBADF', [EAGAIN]: 'EAGAIN', [ENOMEM]: 'ENOMEM', [EACCES]: 'EACCES', [EFAULT]: 'EFAULT',
  [EBUSY]: 'EBUSY', [EEXIST]: 'EEXIST', [ENODEV]: 'ENODEV', [EINVAL]: 'EINVAL', [ENOSPC]: 'ENOSPC',
  [ETXTBSY]: 'ETXTBSY', [EFBIG]: 'EFBIG', [ERANGE]: 'ERANGE', [ENAMETOOLONG]: 'ENAMETOOLONG',
  [ENOSYS]: 'ENOSYS', [ENODATA]: 'ENODATA', [ETIME]: 'ETIME', [ENOPKG]: 'ENOPKG', [EOPNOTSUPP]: 'EOPNOTSUPP', [ENOKEY]: 'ENOKEY',
  [EKEYREJECTED]: 'EKEYREJECTED', [ERESTARTSYS]: 'ERESTARTSYS',
};

/** "EEXIST" for -17 or 17; "0" for 0; "E123" for unknown numbers */
export function errnoName(n: number): string {
  if (n === 0) return '0';
  const a = Math.abs(n);
  return NAMES[a] ?? `E${a}`;
}
