import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fieldErrorMessage } from '../errors.js';
import type { KubeObject } from '../meta.js';
import { nextCronTime, parseCron } from './cron.js';
import { cronJobResource, cronJobToVersion } from './cron-job.js';
import { jobResource } from './job.js';
import { simulateCreate } from './testing.js';
import { get } from './util.js';

const NOW = new Date('2026-01-01T00:10:00Z');
const podTemplate = (restartPolicy?: string): Record<string, unknown> => ({
  spec: { containers: [{ name: 'pi', image: 'perl:5.34' }], ...(restartPolicy ? { restartPolicy } : {}) },
});
function job(
  spec: Record<string, unknown>,
  status?: Record<string, unknown>,
  meta: Record<string, unknown> = {},
): KubeObject {
  const o: KubeObject = {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: 'pi', namespace: 'default', creationTimestamp: '2026-01-01T00:00:00Z', ...meta },
    spec,
  };
  if (status) o.status = status;
  return o;
}
const UID = '3f1c2a9e-0000-4000-8000-000000000001';

test('Job defaults and the generated selector and labels', () => {
  const { stored, messages } = simulateCreate(job({ template: podTemplate('Never') }));
  assert.deepEqual(messages, []);
  const s = stored.spec as Record<string, unknown>;
  assert.equal(s.completions, 1);
  assert.equal(s.parallelism, 1);
  assert.equal(s.backoffLimit, 6);
  assert.equal(s.completionMode, 'NonIndexed');
  assert.equal(s.suspend, false);
  assert.equal(s.podReplacementPolicy, 'TerminatingOrFailed');
  assert.deepEqual(s.selector, { matchLabels: { 'batch.kubernetes.io/controller-uid': UID } });
  const labels = {
    'batch.kubernetes.io/controller-uid': UID,
    'batch.kubernetes.io/job-name': 'pi',
    'controller-uid': UID,
    'job-name': 'pi',
  };
  assert.deepEqual(get(s, 'template', 'metadata', 'labels'), labels);
  assert.deepEqual(stored.metadata.labels, labels);
});

test('Job with parallelism only keeps completions unset', () => {
  const { stored } = simulateCreate(job({ parallelism: 3, template: podTemplate('OnFailure') }));
  assert.equal(get(stored, 'spec', 'completions'), undefined);
  assert.equal(get(stored, 'spec', 'parallelism'), 3);
});

test('Job restartPolicy must be OnFailure or Never', () => {
  assert.deepEqual(simulateCreate(job({ template: podTemplate() })).messages, [
    'spec.template.spec.restartPolicy: Unsupported value: "Always": supported values: "OnFailure", "Never"',
  ]);
});

test('Job manual selector must match the template labels', () => {
  const t = { metadata: { labels: { app: 'pi' } }, ...podTemplate('Never') };
  assert.deepEqual(
    simulateCreate(job({ manualSelector: true, selector: { matchLabels: { app: 'pi' } }, template: t }))
      .messages,
    [],
  );
  assert.deepEqual(
    simulateCreate(job({ manualSelector: true, selector: { matchLabels: { app: 'other' } }, template: t }))
      .messages,
    [
      'spec.template.metadata.labels: Invalid value: map[string]string{"app":"pi"}: `selector` does not match template `labels`',
    ],
  );
  assert.deepEqual(simulateCreate(job({ manualSelector: true, template: t })).messages, [
    'spec.selector: Required value',
  ]);
  assert.deepEqual(simulateCreate(job({ template: podTemplate('Never'), backoffLimit: -1 })).messages, [
    'spec.backoffLimit: Invalid value: -1: must be greater than or equal to 0',
  ]);
});

test('Job template and selector are immutable', () => {
  const { stored } = simulateCreate(job({ template: podTemplate('Never') }));
  const changed = structuredClone(stored);
  (get(changed, 'spec', 'template', 'spec', 'containers') as Record<string, unknown>[])[0]!.image =
    'perl:5.36';
  const errs = (jobResource.strategy?.validateUpdate?.(changed, stored) ?? []).map(fieldErrorMessage);
  assert.equal(errs.length, 1);
  assert.match(errs[0] ?? '', /^spec\.template: Invalid value: .*: field is immutable$/);
  const suspended = simulateCreate(job({ template: podTemplate('Never'), suspend: true })).stored;
  const relabel = structuredClone(suspended);
  (get(relabel, 'spec', 'template', 'metadata', 'labels') as Record<string, string>).extra = 'yes';
  assert.deepEqual(jobResource.strategy?.validateUpdate?.(relabel, suspended), []);
});

test('Job table: STATUS, COMPLETIONS, DURATION', () => {
  const cols = jobResource.tableColumns ?? [];
  assert.deepEqual(
    cols.map((c) => c.name),
    ['Name', 'Status', 'Completions', 'Duration', 'Age', 'Containers', 'Images', 'Selector'],
  );
  const running = job(
    { completions: 6, parallelism: 2, template: podTemplate('Never') },
    { succeeded: 2, startTime: '2026-01-01T00:00:05Z' },
  );
  assert.deepEqual(
    cols.slice(0, 5).map((c) => c.cell(running, NOW)),
    ['pi', 'Running', '2/6', '9m55s', '10m'],
  );
  const done = job(
    { completions: 1, template: podTemplate('Never') },
    {
      succeeded: 1,
      startTime: '2026-01-01T00:00:00Z',
      completionTime: '2026-01-01T00:00:03Z',
      conditions: [{ type: 'Complete', status: 'True' }],
    },
  );
  assert.deepEqual(
    cols.slice(1, 4).map((c) => c.cell(done, NOW)),
    ['Complete', '1/1', '3s'],
  );
  const work = job(
    { parallelism: 3, template: podTemplate('Never') },
    { conditions: [{ type: 'Failed', status: 'True' }] },
  );
  assert.deepEqual(
    cols.slice(1, 4).map((c) => c.cell(work, NOW)),
    ['Failed', '0/1 of 3', ''],
  );
  const suspended = job(
    { completions: 1, template: podTemplate('Never') },
    { conditions: [{ type: 'Suspended', status: 'True' }] },
  );
  assert.equal(cols[1]?.cell(suspended, NOW), 'Suspended');
});

test('cron schedules parse like robfig/cron ParseStandard', () => {
  assert.ok(parseCron('*/1 * * * *'));
  assert.ok(parseCron('@hourly'));
  assert.ok(parseCron('0 0 * * MON-FRI'));
  assert.ok(parseCron('@every 1h30m'));
  assert.throws(() => parseCron('* * * *'), { message: 'expected exactly 5 fields, found 4: [* * * *]' });
  assert.throws(() => parseCron('61 * * * *'), { message: 'end of range (61) above maximum (59): 61' });
  assert.throws(() => parseCron('x * * * *'), {
    message: 'failed to parse int from x: strconv.Atoi: parsing "x": invalid syntax',
  });
  assert.throws(() => parseCron('@fortnightly'), { message: 'unrecognized descriptor: @fortnightly' });
  assert.throws(() => parseCron('5-1 * * * *'), {
    message: 'beginning of range (5) beyond end of range (1): 5-1',
  });
  const next = nextCronTime(parseCron('*/15 * * * *'), new Date('2026-01-01T00:07:30Z'));
  assert.equal(next?.toISOString(), '2026-01-01T00:15:00.000Z');
  const daily = nextCronTime(parseCron('@daily'), new Date('2026-01-01T00:07:30Z'));
  assert.equal(daily?.toISOString(), '2026-01-02T00:00:00.000Z');
  const monday = nextCronTime(parseCron('30 9 * * 1'), new Date('2026-01-01T00:00:00Z'));
  assert.equal(monday?.toISOString(), '2026-01-05T09:30:00.000Z');
});

function cronJob(spec: Record<string, unknown>, status?: Record<string, unknown>): KubeObject {
  const o: KubeObject = {
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: { name: 'hello', namespace: 'default', creationTimestamp: '2026-01-01T00:00:00Z' },
    spec,
  };
  if (status) o.status = status;
  return o;
}
const jobTemplate = { spec: { template: podTemplate('OnFailure') } };

test('CronJob defaults, validation and table', () => {
  const { stored, messages } = simulateCreate(cronJob({ schedule: '*/1 * * * *', jobTemplate }));
  assert.deepEqual(messages, []);
  const s = stored.spec as Record<string, unknown>;
  assert.equal(s.concurrencyPolicy, 'Allow');
  assert.equal(s.suspend, false);
  assert.equal(s.successfulJobsHistoryLimit, 3);
  assert.equal(s.failedJobsHistoryLimit, 1);
  assert.deepEqual(simulateCreate(cronJob({ schedule: 'every minute', jobTemplate })).messages, [
    'spec.schedule: Invalid value: "every minute": expected exactly 5 fields, found 2: [every minute]',
  ]);
  assert.deepEqual(simulateCreate(cronJob({ schedule: 'TZ=UTC * * * * *', jobTemplate })).messages, [
    'spec.schedule: Invalid value: "TZ=UTC * * * * *": cannot use TZ or CRON_TZ in schedule, use timeZone field instead',
  ]);
  assert.deepEqual(
    simulateCreate(cronJob({ schedule: '* * * * *', concurrencyPolicy: 'Sometimes', jobTemplate })).messages,
    [
      'spec.concurrencyPolicy: Unsupported value: "Sometimes": supported values: "Allow", "Forbid", "Replace"',
    ],
  );
  assert.deepEqual(
    simulateCreate(cronJob({ schedule: '* * * * *', timeZone: 'Mars/Olympus', jobTemplate })).messages,
    ['spec.timeZone: Invalid value: "Mars/Olympus": unknown time zone Mars/Olympus'],
  );
  assert.deepEqual(
    simulateCreate(cronJob({ schedule: '* * * * *', jobTemplate: { spec: { template: podTemplate() } } }))
      .messages,
    [
      'spec.jobTemplate.spec.template.spec.restartPolicy: Unsupported value: "Always": supported values: "OnFailure", "Never"',
    ],
  );
  const cols = cronJobResource.tableColumns ?? [];
  assert.deepEqual(
    cols.map((c) => c.name),
    [
      'Name',
      'Schedule',
      'Timezone',
      'Suspend',
      'Active',
      'Last Schedule',
      'Age',
      'Containers',
      'Images',
      'Selector',
    ],
  );
  const withStatus = {
    ...stored,
    status: { active: [{ name: 'hello-1' }], lastScheduleTime: '2026-01-01T00:09:49Z' },
  };
  assert.deepEqual(
    cols.slice(0, 7).map((c) => c.cell(withStatus, NOW)),
    ['hello', '*/1 * * * *', '<none>', 'False', 1, '11s', '10m'],
  );
  assert.equal(cols[5]?.cell(stored, NOW), '<none>');
});

test('batch/v1beta1 CronJob round-trips through batch/v1', () => {
  const { stored } = simulateCreate({
    ...cronJob({ schedule: '@hourly', jobTemplate }),
    apiVersion: 'batch/v1beta1',
  });
  assert.equal(stored.apiVersion, 'batch/v1');
  const old = cronJobToVersion(stored, 'batch/v1beta1');
  assert.deepEqual(cronJobToVersion(old, 'batch/v1'), stored);
});

test('cron activations in a time zone', () => {
  const s = parseCron('0 9 * * *');
  // 09:00 in Shanghai (UTC+8) is 01:00 UTC.
  assert.equal(
    nextCronTime(s, new Date('2026-01-01T00:00:00Z'), 'Asia/Shanghai')?.toISOString(),
    '2026-01-01T01:00:00.000Z',
  );
  assert.equal(
    nextCronTime(s, new Date('2026-01-01T01:00:00Z'), 'Asia/Shanghai')?.toISOString(),
    '2026-01-02T01:00:00.000Z',
  );
  // New York in summer is UTC-4.
  assert.equal(
    nextCronTime(s, new Date('2026-07-01T00:00:00Z'), 'America/New_York')?.toISOString(),
    '2026-07-01T13:00:00.000Z',
  );
  assert.equal(
    nextCronTime(parseCron('CRON_TZ=Asia/Tokyo 30 8 * * *'), new Date('2026-01-01T00:00:00Z'))?.toISOString(),
    '2026-01-01T23:30:00.000Z',
  );
});
