// The shape of a map, its key and its value as tools/gen-abi.ts reads them from BTF.
import type { MapName } from './layouts.generated.ts';

export interface FieldLayout {
  readonly name: string;
  readonly offset: number;
  readonly size: number;
  readonly elemSize: number;
  readonly bigEndian: boolean;
  readonly signed: boolean;
}

export interface StructLayout {
  readonly name: string;
  readonly size: number;
  readonly fields: readonly FieldLayout[];
}

export interface MapLayout<Name extends string = MapName> {
  readonly id: number;
  readonly name: Name;
  /** BPF_MAP_TYPE_*, as the datapath object defines the map. */
  readonly type: number;
  readonly key: StructLayout;
  readonly value: StructLayout;
}
