// What every action receives: its clients, passed in so tests can plug in real local servers.
import type { Dispatcher } from "undici";
import type { KeyScope } from "../core/keyPrefixes";
import type { LogFn, ObjectStore, SecretStore } from "../core/ports";
import type { ProxySettings } from "./proxy";

export interface ActionClients {
  secrets: SecretStore;
  objects: ObjectStore;
  log: LogFn;
  /** Base undici dispatcher for outgoing HTTP (a route's private CA bundle takes precedence). */
  dispatcher?: Dispatcher;
  /** The egress proxy (HTTPS_PROXY, HTTP_PROXY, NO_PROXY); absent: outbound calls go direct. */
  proxy?: ProxySettings;
  /**
   * The keys the route's role may write (routeKeyScope of the route the function runs): s3-zip and
   * delete-s3-prefix refuse any other before their first S3 call. Absent: not checked.
   */
  keyScope?: KeyScope;
  /**
   * hookgate:secretNamePrefix, in front of every secret name of the route (HOOKGATE_SECRET_NAME_PREFIX; serve: ""):
   * a commit status judges a name without it, as check does (publicSecretName). Absent: not known.
   */
  secretNamePrefix?: string;
  /** Where s3-zip downloads the archive (default os.tmpdir(); /tmp on Lambda). */
  tmpDir?: string;
  /**
   * Other runs download to the temp directory's disk at the same time (hookgate serve's <state-dir>/tmp, several
   * s3-zip runs at once): an archive that finds it full may fit once they end, so ENOSPC is retryable. Absent
   * (deployed): the invocation's /tmp is its own, so ENOSPC means the archive does not fit, final.
   */
  sharedTmpDir?: boolean;
  /** The function's memory in MB (AWS_LAMBDA_FUNCTION_MEMORY_SIZE); absent in serve. */
  memoryMb?: number;
  /** Link to the run's logs, for commit statuses (pr-cleanup). */
  logsUrl?: string;
  /** Overall limit for one HTTP exchange in milliseconds (default 30 s; archive downloads 10 min). */
  timeoutMs?: number;
  /** When every HTTP exchange must have ended (epoch ms): the function's deadline, less a margin. */
  deadlineMs?: number;
  /**
   * This is the queue's last attempt at the delivery: a retryable failure is dead-lettered, not retried, so
   * nothing may say a retry follows (pr-cleanup's commit status).
   */
  lastAttempt?: boolean;
  /**
   * The queue's receive count of the delivery's message (absent: 1). Past the first, a jenkins action looks for
   * the build an earlier attempt started before it asks for one.
   */
  attempt?: number;
  /**
   * An earlier attempt at the delivery may have run its action though this is the message's first receive: a
   * dead letter redriven, or the Git host's redelivery of a delivery that died. A jenkins action then looks too.
   */
  mayHaveRun?: boolean;
}
