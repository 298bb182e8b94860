/** Routes of the homeserver, as fault rules name them. */
export type RouteName =
  | 'root'
  | 'signup'
  | 'session'
  | 'events'
  | 'events-stream'
  | 'read'
  | 'list'
  | 'write'
  | 'delete';

export type Fault =
  /** Wait before answering (combines with any other fault). */
  | { kind: 'latency'; ms: number }
  /** Answer with this status (5xx, 404…) and body instead of doing the work. */
  | { kind: 'status'; status: number; body?: string }
  /** 429 Too Many Requests with Retry-After. */
  | { kind: 'rate-limit'; retryAfterSeconds: number }
  /** Destroy the connection without answering. */
  | { kind: 'reset' }
  /** Send the headers (full Content-Length) and this many body bytes, then cut the connection. */
  | { kind: 'truncate'; afterBytes: number }
  /** Serve bytes that differ from the ETag / content_hash (a tampering homeserver). */
  | { kind: 'tamper' }
  /** The file silently vanished: GET/HEAD answer 404 although the feed still lists it. */
  | { kind: 'drop' };

export interface FaultRule {
  route?: RouteName | RouteName[];
  method?: string;
  /** Exact decoded path, or a pattern tested against it. */
  path?: string | RegExp;
  /** Tenant (user z32) the request is for. */
  user?: string;
  /** Apply this many times, then the rule is spent. Default: until removed. */
  times?: number;
  fault: Fault;
}

export interface RequestFacts {
  route: RouteName;
  method: string;
  path: string;
  user?: string;
}

/** A rule in a plan, with the id that removes it and the uses it has left. */
export interface ActiveFaultRule {
  id: number;
  rule: FaultRule;
}

/** Faults are off unless a test adds a rule. */
export class FaultPlan {
  private rules: ActiveFaultRule[] = [];
  private nextId = 1;

  /** Adds a rule; returns a function that removes it. */
  add(rule: FaultRule): () => void {
    const id = this.addRule(rule);
    return () => {
      this.remove(id);
    };
  }

  /** Adds a rule; returns its id (for `remove`). */
  addRule(rule: FaultRule): number {
    const id = this.nextId++;
    this.rules.push({ id, rule: { ...rule } });
    return id;
  }

  /** Removes one rule; false when it was already gone (removed, or spent its `times`). */
  remove(id: number): boolean {
    const before = this.rules.length;
    this.rules = this.rules.filter((active) => active.id !== id);
    return this.rules.length < before;
  }

  /** The rules in force, in the order they were added (`times` counts the uses left). */
  list(): ActiveFaultRule[] {
    return this.rules.map(({ id, rule }) => ({ id, rule: { ...rule } }));
  }

  /** Removes every rule; returns how many there were. */
  clear(): number {
    const count = this.rules.length;
    this.rules = [];
    return count;
  }

  /** The faults that apply to this request, consuming one use of each counted rule. */
  take(facts: RequestFacts): Fault[] {
    const faults: Fault[] = [];
    for (const active of [...this.rules]) {
      const { rule } = active;
      if (!matches(rule, facts)) continue;
      faults.push(rule.fault);
      if (rule.times !== undefined && --rule.times <= 0) this.remove(active.id);
    }
    return faults;
  }
}

function matches(rule: FaultRule, facts: RequestFacts): boolean {
  if (rule.route !== undefined) {
    const routes = Array.isArray(rule.route) ? rule.route : [rule.route];
    if (!routes.includes(facts.route)) return false;
  }
  if (rule.method !== undefined && rule.method.toUpperCase() !== facts.method) return false;
  if (rule.user !== undefined && rule.user !== facts.user) return false;
  if (typeof rule.path === 'string' && rule.path !== facts.path) return false;
  if (rule.path instanceof RegExp && !rule.path.test(facts.path)) return false;
  return true;
}
