// cluster-key-slot (the slot function ioredis itself routes by) ships no types.
declare module "cluster-key-slot" {
  /** The Redis Cluster slot (0-16383) of a key: CRC16 of its hash tag (`{…}`) if it has one, else of the whole key. */
  export default function calculateSlot(key: string | Buffer): number;
}
