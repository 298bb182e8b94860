import { BackupError } from '../errors.js';

/**
 * Operations on the backup run side by side (`shared`), except one that needs it alone
 * (`exclusive`: moving the backup), which waits for those running and refuses new ones meanwhile
 * with `BACKUP_BUSY` (a conflict: try again when it is done).
 */
export class WorkGate {
  private active = 0;
  private alone: string | undefined;
  private waiters: Array<() => void> = [];

  async shared<T>(work: () => Promise<T>): Promise<T> {
    if (this.alone) throw busy(this.alone);
    this.active++;
    try {
      return await work();
    } finally {
      this.active--;
      if (this.active === 0) for (const wake of this.waiters.splice(0)) wake();
    }
  }

  /** Runs `work` once nothing else runs; `what` names it in the refusals (`moving the backup`). */
  async exclusive<T>(what: string, work: () => Promise<T>): Promise<T> {
    if (this.alone) throw busy(this.alone);
    this.alone = what;
    try {
      while (this.active > 0) await new Promise<void>((resolve) => this.waiters.push(resolve));
      return await work();
    } finally {
      this.alone = undefined;
    }
  }
}

function busy(what: string): BackupError {
  return new BackupError('BACKUP_BUSY', `Pubky Backup is ${what}; try again when that is done.`, 'conflict', {
    what,
  });
}
