import { MemoryStore } from '../../src/index.js';

/** A MemoryStore that goes down on demand: reads, writes, or both fail with the driver's error. */
export class SwitchableStore extends MemoryStore {
  down: { reads?: boolean; writes?: boolean } = {};
  /** The write calls the app made, failed ones included. */
  readonly calls: string[] = [];
  private fail(): Promise<never> {
    return Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:6379'));
  }
  override getSync(key: string) {
    if (this.down.reads) throw new Error('connect ECONNREFUSED 127.0.0.1:6379');
    return super.getSync(key);
  }
  override create(...args: Parameters<MemoryStore['create']>) {
    this.calls.push('create');
    return this.down.writes ? this.fail() : super.create(...args);
  }
  override patch(...args: Parameters<MemoryStore['patch']>) {
    this.calls.push('patch');
    return this.down.writes ? this.fail() : super.patch(...args);
  }
  override rename(...args: Parameters<MemoryStore['rename']>) {
    this.calls.push('rename');
    return this.down.writes ? this.fail() : super.rename(...args);
  }
  override destroy(...args: Parameters<MemoryStore['destroy']>) {
    this.calls.push('destroy');
    return this.down.writes ? this.fail() : super.destroy(...args);
  }
}
