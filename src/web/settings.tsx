import { useState } from 'preact/hooks';
import { api } from './api.js';
import { BackupLocation } from './backup-location.js';
import { Message, useAction } from './key-detail.js';
import type { Config } from './model.js';

/** The intervals the original app offers (seconds). */
const INTERVALS: Array<[number, string]> = [
  [30, '30 seconds'],
  [300, '5 minutes'],
  [600, '10 minutes'],
  [900, '15 minutes'],
  [1800, '30 minutes'],
  [3600, '60 minutes'],
];

/** Settings, each saved on its own through `PATCH /config` (validated like config.json) and applied at once. */
export function Settings(props: { config: Config; dataDir: string | undefined; onChange: () => void }) {
  const c = props.config;
  const intervals = INTERVALS.some(([s]) => s === c.syncIntervalSeconds)
    ? INTERVALS
    : [...INTERVALS, [c.syncIntervalSeconds, `${c.syncIntervalSeconds} seconds`] as [number, string]];
  return (
    <section class="settings">
      <h1>Settings</h1>
      <Setting
        id="syncIntervalSeconds"
        label="Sync interval"
        help="How often every pubky's homeserver is asked for new events; the live stream brings changes sooner where the homeserver has one."
        value={c.syncIntervalSeconds}
        onChange={props.onChange}
        render={(value, set) => (
          <select
            id="syncIntervalSeconds"
            value={String(value)}
            onChange={(e) => set(Number(e.currentTarget.value))}
          >
            {intervals.map(([seconds, words]) => (
              <option key={seconds} value={String(seconds)}>
                {words}
              </option>
            ))}
          </select>
        )}
      />
      <Setting
        id="downloadConcurrency"
        label="Downloads at once"
        help="Files downloaded in parallel from each homeserver (1–64)."
        value={c.downloadConcurrency}
        onChange={props.onChange}
        render={(value, set) => (
          <input
            id="downloadConcurrency"
            type="number"
            min={1}
            max={64}
            value={value}
            onChange={(e) => set(Number(e.currentTarget.value))}
          />
        )}
      />
      <Setting
        id="snapshots.every"
        label="Snapshots"
        help="A ZIP archive of each pubky's backup, made on this schedule after a completed sync (never an empty one)."
        value={c.snapshots.every}
        onChange={props.onChange}
        render={(value, set) => (
          <select
            id="snapshots.every"
            value={value}
            onChange={(e) => set(e.currentTarget.value as Config['snapshots']['every'])}
          >
            <option value="off">off</option>
            <option value="hourly">every hour</option>
            <option value="daily">every day</option>
            <option value="weekly">every week</option>
          </select>
        )}
      />
      {(['keepLast', 'keepDaily', 'keepWeekly', 'keepMonthly'] as const).map((field) => (
        <Setting
          key={field}
          id={`snapshots.${field}`}
          label={RETENTION_WORDS[field]}
          help="Snapshots kept after each scheduled one (empty: keep all). A snapshot is kept when any rule keeps it."
          value={c.snapshots[field]}
          onChange={props.onChange}
          render={(value, set) => (
            <input
              id={`snapshots.${field}`}
              type="number"
              min={1}
              value={value ?? ''}
              placeholder="all"
              onChange={(e) => set(e.currentTarget.value === '' ? undefined : Number(e.currentTarget.value))}
            />
          )}
        />
      ))}
      <Setting
        id="versions.keepDays"
        label="Keep previous versions (days)"
        help="Copies of files the homeserver changed or deleted are kept this many days (0: forever)."
        value={c.versions.keepDays}
        onChange={props.onChange}
        render={(value, set) => (
          <input
            id="versions.keepDays"
            type="number"
            min={0}
            max={36500}
            value={value}
            onChange={(e) => set(Number(e.currentTarget.value))}
          />
        )}
      />
      <BackupLocation dataDir={props.dataDir} onChange={props.onChange} />
    </section>
  );
}

const RETENTION_WORDS = {
  keepLast: 'Keep the last … snapshots',
  keepDaily: 'Keep daily snapshots for … days',
  keepWeekly: 'Keep weekly snapshots for … weeks',
  keepMonthly: 'Keep monthly snapshots for … months',
};

/** One setting: its control, and the daemon's answer (saved, or why not) beside it. */
function Setting<T>(props: {
  id: string;
  label: string;
  help: string;
  value: T;
  onChange: () => void;
  render: (value: T, set: (value: T) => void) => preact.JSX.Element;
}) {
  const [value, setValue] = useState(props.value);
  const save = useAction(props.onChange);
  const set = (next: T) => {
    setValue(next);
    void save.run(async () => {
      await api('PATCH', '/config', { field: props.id, value: next ?? null });
      return 'saved';
    });
  };
  return (
    <div class="field setting">
      <label for={props.id}>{props.label}</label>
      {props.render(value, set)}
      <p class="muted">{props.help}</p>
      <Message message={save.message} />
    </div>
  );
}
