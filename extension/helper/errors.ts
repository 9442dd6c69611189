// Typed failures inside the helper, and their translation into JSON-RPC errors the client understands.
import { ResponseError } from 'vscode-jsonrpc';
import { ZodError } from 'zod';
import { ErrorCodes, HelperErrorData } from '../protocol/errors';

export class HelperFailure extends Error {
  constructor(
    readonly data: HelperErrorData,
    message: string,
  ) {
    super(message);
  }
}

const errnoNames: Record<number, string> = {
  1: 'EPERM',
  2: 'ENOENT',
  3: 'ESRCH',
  7: 'E2BIG',
  9: 'EBADF',
  12: 'ENOMEM',
  13: 'EACCES',
  16: 'EBUSY',
  17: 'EEXIST',
  19: 'ENODEV',
  22: 'EINVAL',
  28: 'ENOSPC',
  95: 'EOPNOTSUPP',
  524: 'ENOTSUPP',
};

export function errnoName(errno: number): string {
  return errnoNames[errno] ?? `errno ${errno}`;
}

/** Anything thrown in a handler becomes a ResponseError with typed data; never a stack trace. */
export function toResponseError(error: unknown): ResponseError<HelperErrorData> {
  if (error instanceof HelperFailure) return new ResponseError(ErrorCodes[error.data.kind], error.message, error.data);
  if (error instanceof ZodError) {
    const issue = error.issues[0];
    const field = issue.path.join('.') || 'params';
    return new ResponseError(ErrorCodes.BadInput, `Invalid ${field}: ${issue.message}`, {
      kind: 'BadInput',
      field,
      reason: issue.message,
    });
  }
  const errno = (error as { errno?: number }).errno;
  const message = (error as Error)?.message ?? String(error);
  // The addon types its own refusals (native/types.ts NativeError): malformed input is BadInput.
  const native = error as { kind?: string; field?: string };
  if (native.kind === 'BadInput')
    return new ResponseError(ErrorCodes.BadInput, message, {
      kind: 'BadInput',
      field: native.field ?? 'params',
      reason: message,
    });
  if (errno === 1 || errno === 13)
    return new ResponseError(ErrorCodes.Permission, message, {
      kind: 'Permission',
      need: 'root (CAP_BPF, CAP_SYS_ADMIN)',
    });
  if (errno === 2) return new ResponseError(ErrorCodes.NotFound, message, { kind: 'NotFound', what: message });
  if (error instanceof TypeError)
    return new ResponseError(ErrorCodes.BadInput, message, { kind: 'BadInput', field: 'params', reason: message });
  return new ResponseError(ErrorCodes.Internal, message, { kind: 'Internal', errno });
}
