import type { JsonValue } from '../events/eventCatalog.js';
import type { Projection } from './projection.js';

/** One pipeline version as defined in the log. */
export interface PipelineRecord {
  readonly pipeline_version: string;
  readonly label: string;
  readonly config: JsonValue;
  readonly defined_at: string;
  readonly activated_at: string | null;
}

/** Pipelines read model: `pipeline:<version>` holds a PipelineRecord, `active` the active version. */
export const pipelinesProjection: Projection = {
  name: 'pipelines',
  version: 1,
  eventTypes: ['PipelineVersionDefined', 'PipelineVersionActivated'],
  handle(e, view) {
    switch (e.type) {
      case 'PipelineVersionDefined': {
        const key = `pipeline:${e.data.pipeline_version}`;
        if (view.get(key)) return; // defined once; a redefinition cannot change a fingerprint's meaning
        const record: PipelineRecord = { pipeline_version: e.data.pipeline_version, label: e.data.label, config: e.data.config, defined_at: e.data.defined_at, activated_at: null };
        view.put(key, record as unknown as JsonValue);
        return;
      }
      case 'PipelineVersionActivated': {
        const key = `pipeline:${e.data.pipeline_version}`;
        const record = view.get(key) as unknown as PipelineRecord | undefined;
        if (!record) return;
        view.put(key, { ...record, activated_at: e.data.activated_at });
        view.put('active', e.data.pipeline_version);
        return;
      }
      default:
        return;
    }
  },
};
