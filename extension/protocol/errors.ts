// The helper's wire: typed errors, carried in a JSON-RPC ResponseError's data, and their codes. Pure.

/** Typed errors across the boundary, carried in ResponseError.data; the UI explains each kind. */
export type HelperErrorData =
  | {
      kind: 'NotSupported';
      feature: string;
      reason: string;
      /** The refused program, for load failures. */ program?: string;
      /** libbpf's own lines about it, kept as detail beside the reason. */ libbpf?: string[];
    }
  | { kind: 'Permission'; need: string }
  | { kind: 'VerifierRejected'; program: string; message: string; log: string; errno: number }
  | { kind: 'BadInput'; field: string; reason: string }
  | { kind: 'NotFound'; what: string }
  /** map/edit: the entry exists (add), is gone, or changed since the user saw it (edit). */
  | { kind: 'Conflict'; reason: 'exists' | 'gone' | 'changed' }
  | {
      kind: 'Internal';
      errno?: number;
      /** A load failure that concerns one program or one map (its definition line shows it). */
      program?: string;
      map?: string;
      /** libbpf's own lines about it, kept as detail beside the reason. */
      libbpf?: string[];
    }
  | {
      /** The object belongs to other software: eBPF Studio did not load it. With `grantable`, the same
       * request carrying `grant: id` is allowed (the user agreed); otherwise it is never done. */
      kind: 'NotOwned';
      /** "load": another window's pinned load; "trace_pipe": another reader has the machine's one stream. */
      object: 'map' | 'program' | 'load' | 'trace_pipe';
      /** The kernel id (maps, programs); 0 otherwise. */
      id: number;
      /** For "load": the load id, which is also the grant. */
      loadId?: string;
      name: string;
      /** Processes holding an fd on it, from /proc/<pid>/fdinfo; empty when only pins or programs keep it. */
      holders: { pid: number; comm: string }[];
      grantable: boolean;
    };

/** JSON-RPC error codes for the kinds above (application range). */
export const ErrorCodes: Record<HelperErrorData['kind'], number> = {
  NotSupported: -32010,
  Permission: -32011,
  VerifierRejected: -32012,
  BadInput: -32602,
  NotFound: -32013,
  Conflict: -32015,
  Internal: -32603,
  NotOwned: -32014,
};

/** A typed error from the helper, as the client raises it: `data.kind` says what kind of failure. */
export class HelperError extends Error {
  constructor(
    message: string,
    readonly data: HelperErrorData,
  ) {
    super(message);
    this.name = 'HelperError';
  }
}
