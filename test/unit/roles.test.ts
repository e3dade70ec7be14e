// Roles: who a sign-in's claims make a viewer, operator or admin, and the role each route needs — held to
// docs/openapi.yaml's `x-role` of every operation, so the document says what the server does.
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { emptyRoleLists, hasRole, roleNeeded, roleOfClaims, type RoleLists } from '../../src/api/auth/roles';

const lists: RoleLists = {
  viewer: ['*'],
  operator: ['group:6f1d-oncall', 'bob@example.com'],
  admin: ['role:SteprunWatch.Admin', 'sub:00u-carol'],
};

describe('roleOfClaims', () => {
  it('gives the highest role whose list names the user by email, subject, group or app role', () => {
    expect(roleOfClaims({ sub: 'x', email: 'nobody@example.com' }, lists)).toBe('viewer');
    expect(roleOfClaims({ sub: 'x', groups: ['6f1d-oncall'] }, lists)).toBe('operator');
    expect(roleOfClaims({ sub: 'x', email: 'Bob@Example.com' }, lists)).toBe('operator');
    expect(roleOfClaims({ sub: 'x', roles: ['SteprunWatch.Admin'], groups: ['6f1d-oncall'] }, lists)).toBe('admin');
    expect(roleOfClaims({ sub: '00u-carol' }, lists)).toBe('admin');
  });
  it('gives none when no list names the user (no `*`): they are not let in', () => {
    const noAnyone = { ...lists, viewer: ['alice@example.com'] };
    expect(roleOfClaims({ sub: 'x', email: 'mallory@example.com', groups: ['other'] }, noAnyone)).toBeUndefined();
    // A group id is not an email, nor an app role a group.
    expect(roleOfClaims({ sub: 'x', groups: ['SteprunWatch.Admin'] }, noAnyone)).toBeUndefined();
  });
  it('names the lists that name nobody', () => {
    expect(emptyRoleLists({ viewer: [], operator: ['a@b.c'], admin: [] })).toEqual(['viewer', 'admin']);
  });
  it('orders the roles: an admin may do what an operator may, a viewer nothing more than read', () => {
    expect(hasRole('admin', 'operator')).toBe(true);
    expect(hasRole('operator', 'admin')).toBe(false);
    expect(hasRole('viewer', 'viewer')).toBe(true);
  });
});

describe('roleNeeded', () => {
  it('is what docs/openapi.yaml says each operation needs (x-role)', () => {
    const doc = parseYaml(readFileSync(path.join(__dirname, '../../docs/openapi.yaml'), 'utf8')) as {
      paths: Record<string, Record<string, { 'x-role'?: string }>>;
    };
    let checked = 0;
    for (const [p, item] of Object.entries(doc.paths))
      for (const [method, op] of Object.entries(item)) {
        if (method === 'parameters') continue;
        expect({ op: `${method} ${p}`, role: op['x-role'] }).toEqual(expect.objectContaining({ role: expect.any(String) }));
        if (op['x-role'] === 'none' || op['x-role'] === 'signed') continue;
        expect({ op: `${method} ${p}`, role: roleNeeded(method.toUpperCase(), p.replace(/\{[^}]+\}/g, 'x1')) }).toEqual({
          op: `${method} ${p}`,
          role: op['x-role'],
        });
        checked++;
      }
    expect(checked).toBeGreaterThan(20);
  });
  it('a write no one listed needs an admin (a new route is closed until opened)', () => {
    expect(roleNeeded('POST', '/something/new')).toBe('admin');
    expect(roleNeeded('GET', '/something/new')).toBe('viewer');
  });
});
