import t from 'tap';
import { globToRegExp } from '../../src/store/glob.js';

t.test('globToRegExp follows Redis glob rules', async (t) => {
  const cases: [string, string, boolean][] = [
    ['user:*', 'user:1', true],
    ['user:*', 'user:a/b:c', true],
    ['user:*', 'users:1', false],
    ['h?llo', 'hello', true],
    ['h?llo', 'heello', false],
    ['h[ae]llo', 'hallo', true],
    ['h[ae]llo', 'hillo', false],
    ['h[^e]llo', 'hallo', true],
    ['h[!e]llo', 'hello', false],
    ['h[a-c]llo', 'hbllo', true],
    ['a.b', 'axb', false],
    ['a.b', 'a.b', true],
    ['a\\*b', 'a*b', true],
    ['a\\*b', 'axb', false],
    ['(x)+', '(x)+', true],
    ['*', '', true],
  ];
  for (const [glob, input, expected] of cases) t.equal(globToRegExp(glob).test(input), expected, `${glob} ~ ${input}`);
});
