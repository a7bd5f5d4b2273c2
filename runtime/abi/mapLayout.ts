// The shape of a map's key and value as tools/gen-abi.ts reads it from BTF.
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

export interface MapLayout {
  readonly id: number;
  readonly name: string;
  readonly key: StructLayout;
  readonly value: StructLayout;
}
