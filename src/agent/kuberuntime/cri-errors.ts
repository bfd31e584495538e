// A failed CRI call as kubelet words it: kubelet talks to the runtime through grpc-go, so a pull
// error reads "rpc error: code = NotFound desc = …" (the error's own text), while container
// create and start errors show only the status message (kubelet takes grpc status.Message()).
import { CriError } from '../cri/client.js';

/** grpc-go's names of the status codes (codes.Code.String()), by number. */
const GO_CODE_NAMES = [
  'OK',
  'Canceled',
  'Unknown',
  'InvalidArgument',
  'DeadlineExceeded',
  'NotFound',
  'AlreadyExists',
  'PermissionDenied',
  'ResourceExhausted',
  'FailedPrecondition',
  'Aborted',
  'OutOfRange',
  'Unimplemented',
  'Internal',
  'Unavailable',
  'DataLoss',
  'Unauthenticated',
] as const;

/** The text of a grpc-go error (err.Error()) for a failed CRI call; other errors as they are. */
export function grpcErrorText(e: unknown): string {
  if (e instanceof CriError)
    return `rpc error: code = ${GO_CODE_NAMES[e.code] ?? `Code(${e.code})`} desc = ${e.details}`;
  return e instanceof Error ? e.message : String(e);
}

/** The status message of a failed CRI call (grpc status.Message()); other errors as they are. */
export function grpcStatusMessage(e: unknown): string {
  if (e instanceof CriError) return e.details;
  return e instanceof Error ? e.message : String(e);
}
