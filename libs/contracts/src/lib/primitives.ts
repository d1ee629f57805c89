import { z } from 'zod';

/** Building blocks shared by the event schemas. */

/** Opaque identifier issued by the owning service. */
export const IdSchema = z.string().min(1);

/** A tenant is a Keystone project; this is its project id (R-AU-2). */
export const TenantIdSchema = z.string().min(1);

/** Id of a long-running operation the gateway reports status on. */
export const OperationIdSchema = z.string().min(1);

/** ISO-8601 instant; an explicit offset is allowed (collection points log local time, R-LG-4). */
export const TimestampSchema = z.iso.datetime({ offset: true });

/** A stack revision: every accepted template is one (R-OR-7). */
export const RevisionSchema = z.number().int().positive();

export const ReplicaCountSchema = z.number().int().nonnegative();

/** Kubernetes namespace name (RFC 1123 label). */
export const K8sNamespaceSchema = z
  .string()
  .max(63)
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be an RFC 1123 label (lower-case alphanumerics and "-")');

/** Kubernetes object name (RFC 1123 subdomain): deployments, claims, storage classes, NADs. */
export const K8sNameSchema = z
  .string()
  .max(253)
  .regex(
    /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/,
    'must be an RFC 1123 subdomain (lower-case alphanumerics, "-" and ".")',
  );

/** NFS performance tiers (R-ST-4). */
export const NfsTierSchema = z.enum(['gold', 'silver', 'bronze']);
export type NfsTier = z.infer<typeof NfsTierSchema>;

/** Whether a "recorded" event created the record or changed it. */
export const RecordChangeSchema = z.enum(['created', 'updated']);

/** An error as reported to users: a stable code, a message, and optionally what to do about it. */
export const ErrorInfoSchema = z.object({
  code: z.string().min(1),
  message: z.string().min(1),
  hint: z.string().min(1).optional(),
});
export type ErrorInfo = z.infer<typeof ErrorInfoSchema>;

/** OCI content digest, e.g. `sha256:<64 hex>`. */
export const ImageDigestSchema = z
  .string()
  .regex(/^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$/, 'must be an OCI digest such as sha256:<hex>');

/** Image tag as the OCI distribution spec allows it. */
export const ImageTagSchema = z
  .string()
  .regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/, 'must be an image tag (up to 128 of A-Z a-z 0-9 _ . -)');

/** Time of day `HH:MM`, 00:00–23:59 (R-AS-1 windows, R-AS-5 alert-rule activity). */
export const TimeOfDaySchema = z
  .string()
  .regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be a time of day HH:MM between 00:00 and 23:59');

export const MINUTES_PER_DAY = 24 * 60;

/**
 * A window of the daily cycle. `start` is inclusive and `end` exclusive; an `end` at or before
 * `start` runs past midnight (22:00–06:00), and `end` equal to `start` covers the whole day.
 */
export const TimeWindowSchema = z.object({
  start: TimeOfDaySchema,
  end: TimeOfDaySchema,
});
export type TimeWindow = z.infer<typeof TimeWindowSchema>;

/** Minutes since midnight of a well-formed `HH:MM`. */
export function minuteOfDay(timeOfDay: string): number {
  const [hours, minutes] = timeOfDay.split(':').map(Number);
  return hours * 60 + minutes;
}

/** The half-open minute ranges `[from, to)` of one day that a window covers. */
export function windowRanges(window: TimeWindow): Array<[number, number]> {
  const start = minuteOfDay(window.start);
  const end = minuteOfDay(window.end);
  if (start === end) return [[0, MINUTES_PER_DAY]];
  if (start < end) return [[start, end]];
  const ranges: Array<[number, number]> = [[start, MINUTES_PER_DAY]];
  if (end > 0) ranges.push([0, end]);
  return ranges;
}

/** Whether `minute` (minutes since midnight) falls inside the window. */
export function windowContains(window: TimeWindow, minute: number): boolean {
  return windowRanges(window).some(([from, to]) => minute >= from && minute < to);
}

export function windowsOverlap(a: TimeWindow, b: TimeWindow): boolean {
  return windowRanges(a).some(([aFrom, aTo]) =>
    windowRanges(b).some(([bFrom, bTo]) => aFrom < bTo && bFrom < aTo),
  );
}
