// Windows of the daily cycle (R-AS-1): `start` included, `end` excluded, both HH:MM; an `end` at or
// before `start` runs past midnight, `end` equal to `start` is the whole day. The same semantics as
// the autoscaling contract (libs/contracts primitives), restated here because libs/tosca depends on
// no other library.

export interface DailyWindow {
  start: string;
  end: string;
}

const TIME_OF_DAY = /^([01]\d|2[0-3]):[0-5]\d$/;

export function isTimeOfDay(text: unknown): text is string {
  return typeof text === 'string' && TIME_OF_DAY.test(text);
}

export function minuteOfDay(timeOfDay: string): number {
  const [hours, minutes] = timeOfDay.split(':').map(Number);
  return hours * 60 + minutes;
}

/** The half-open minute ranges [from, to) of one day that a window covers. */
export function windowRanges(window: DailyWindow): Array<[number, number]> {
  const start = minuteOfDay(window.start);
  const end = minuteOfDay(window.end);
  if (start === end) return [[0, 24 * 60]];
  if (start < end) return [[start, end]];
  return [
    [start, 24 * 60],
    [0, end],
  ];
}

export function windowsOverlap(a: DailyWindow, b: DailyWindow): boolean {
  return windowRanges(a).some(([aFrom, aTo]) =>
    windowRanges(b).some(([bFrom, bTo]) => aFrom < bTo && bFrom < aTo),
  );
}
