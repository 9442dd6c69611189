import { strict as assert } from 'assert';
import { isPerCpuMapType } from '../../extension/formats/map-types';

describe('map types', () => {
  it('knows the per-CPU map types by their libbpf names, and only those', () => {
    for (const type of ['percpu_hash', 'percpu_array', 'lru_percpu_hash', 'percpu_cgroup_storage'])
      assert.ok(isPerCpuMapType(type), type);
    for (const type of ['hash', 'array', 'lru_hash', 'cgroup_storage', 'ringbuf', 'perf_event_array', 'cgrp_storage'])
      assert.ok(!isPerCpuMapType(type), type);
  });
});
