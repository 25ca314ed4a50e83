import { MemoryStore } from '../../src/index.js';

/** A MemoryStore that goes down on demand: reads, writes, or both fail with the driver's error. */
export class SwitchableStore extends MemoryStore {
  down: { reads?: boolean; writes?: boolean } = {};
  /** The write calls the app made, failed ones included. */
  readonly calls: string[] = [];
  override getSync(key: string) {
    if (this.down.reads) throw refused();
    return super.getSync(key);
  }
  override create(...args: Parameters<MemoryStore['create']>) {
    return this.write('create', () => super.create(...args));
  }
  override patch(...args: Parameters<MemoryStore['patch']>) {
    return this.write('patch', () => super.patch(...args));
  }
  override rename(...args: Parameters<MemoryStore['rename']>) {
    return this.write('rename', () => super.rename(...args));
  }
  override destroy(...args: Parameters<MemoryStore['destroy']>) {
    return this.write('destroy', () => super.destroy(...args));
  }
  /** Records a write call, and fails it while writes are down. */
  private write<R>(name: string, run: () => Promise<R>): Promise<R> {
    this.calls.push(name);
    return this.down.writes ? Promise.reject(refused()) : run();
  }
}

/** The error a driver gives for a server that is not listening. */
const refused = (): Error => new Error('connect ECONNREFUSED 127.0.0.1:6379');
