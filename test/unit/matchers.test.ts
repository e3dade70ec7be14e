// Matchers in Alertmanager's syntax (store/matchers.ts): parsing, printing and what each operator holds for.
import { formatMatcher, matcherHolds, parseMatcher, parseMatcherList, shortMatcher } from '../../src/store/matchers';

describe('matchers', () => {
  it('parses the four operators, bare and quoted values', () => {
    expect(parseMatcher('experiment="churn"')).toEqual({ name: 'experiment', op: '=', value: 'churn' });
    expect(parseMatcher('step!=report')).toEqual({ name: 'step', op: '!=', value: 'report' });
    expect(parseMatcher('experiment=~"nightly-.*"')).toEqual({ name: 'experiment', op: '=~', value: 'nightly-.*' });
    expect(parseMatcher(' labels.team !~ "ml|data" ')).toEqual({ name: 'labels.team', op: '!~', value: 'ml|data' });
    expect(parseMatcher('step="say \\"hi\\" \\\\ there"')).toEqual({ name: 'step', op: '=', value: 'say "hi" \\ there' });
  });

  it('reads a list as amtool and the CLI write it: commas inside quotes belong to the value, braces optional', () => {
    expect(parseMatcherList('{experiment="a,b", step!=x}')).toEqual([
      { name: 'experiment', op: '=', value: 'a,b' },
      { name: 'step', op: '!=', value: 'x' },
    ]);
    expect(parseMatcherList('experiment=churn,type=steprun.failed')).toHaveLength(2);
    expect(parseMatcherList('  ')).toEqual([]);
  });

  it('refuses what it cannot read, saying why', () => {
    expect(() => parseMatcher('experiment')).toThrow(/not a matcher: FIELD=VALUE/);
    expect(() => parseMatcher('experimnt=churn')).toThrow(/unknown field "experimnt" \(did you mean "experiment"\?\)/);
    expect(() => parseMatcher('experiment=~"nightly-(.*"')).toThrow(/is not a regular expression/);
    expect(() => parseMatcher('step="open')).toThrow(/quote is not closed/);
    expect(() => parseMatcher('step="a"b')).toThrow(/after the closing quote/);
    expect(() => parseMatcherList('step="a,b')).toThrow(/quote is not closed/);
  });

  it('writes a list as --match takes it, quoting only what must be', () => {
    const list = parseMatcherList('experiment=churn,step!="a b",labels.team=~"ml|data, web",pipeline=""');
    const text = list.map(shortMatcher).join(',');
    expect(text).toBe('experiment=churn,step!="a b",labels.team=~"ml|data, web",pipeline=""');
    expect(parseMatcherList(text)).toEqual(list);
  });

  it('prints back what it read', () => {
    for (const text of ['experiment="churn"', 'step!="report"', 'experiment=~"nightly-.*"', 'step="say \\"hi\\""']) {
      expect(formatMatcher(parseMatcher(text))).toBe(text);
      expect(parseMatcher(formatMatcher(parseMatcher(text)))).toEqual(parseMatcher(text));
    }
  });

  it('= and != compare (globs allowed), =~ and !~ are anchored regexes; a missing field is ""', () => {
    const m = (t: string) => parseMatcher(t);
    expect(matcherHolds(m('experiment=churn'), 'churn')).toBe(true);
    expect(matcherHolds(m('experiment=churn'), 'churn2')).toBe(false);
    expect(matcherHolds(m('experiment=ch*'), 'churn2')).toBe(true);
    expect(matcherHolds(m('experiment!=churn'), 'billing')).toBe(true);
    expect(matcherHolds(m('experiment=~"nightly-.*"'), 'nightly-churn')).toBe(true);
    expect(matcherHolds(m('experiment=~"nightly"'), 'nightly-churn')).toBe(false); // anchored, as in Alertmanager
    expect(matcherHolds(m('labels.team!~"ml|data"'), 'web')).toBe(true);
    expect(matcherHolds(m('labels.team!~"ml|data"'), 'data')).toBe(false);
    // A field the event lacks is the empty string for equality and regexes (Alertmanager's rule) ...
    expect(matcherHolds(m('step!=report'), undefined)).toBe(true);
    expect(matcherHolds(m('step=""'), undefined)).toBe(true);
    expect(matcherHolds(m('step=~".*"'), undefined)).toBe(true);
    expect(matcherHolds(m('step=~".+"'), undefined)).toBe(false);
    // ... and a glob matches only a field the event has (`step=*`: step events only), as globs always did.
    expect(matcherHolds(m('step=*'), undefined)).toBe(false);
    expect(matcherHolds(m('step=*'), 'train')).toBe(true);
  });
});
