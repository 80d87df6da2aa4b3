/**
 * Redis-style glob patterns for SCAN: `*` any run, `?` one character,
 * `[abc]`, `[a-z]`, `[^a]` / `[!a]` classes, `\` escapes. Unlike path globs,
 * `*` also matches `/` and `:`, as users of Redis expect.
 */
import { ShoalError } from '@shoal/protocol';

const REGEX_SPECIAL = /[.*+?^${}()|[\]\\/]/g;

/** Compiles a glob to an anchored RegExp; throws SHOAL_ARGUMENT_INVALID for an unterminated class. */
export function globToRegExp(glob: string): RegExp {
  let source = '^';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] as string;
    if (c === '*') source += '[\\s\\S]*';
    else if (c === '?') source += '[\\s\\S]';
    else if (c === '\\' && i + 1 < glob.length) source += (glob[++i] as string).replace(REGEX_SPECIAL, '\\$&');
    else if (c === '[') {
      const end = glob.indexOf(']', i + 2);
      if (end < 0) {
        throw new ShoalError('SHOAL_ARGUMENT_INVALID', `pattern ${JSON.stringify(glob)} has an unterminated [class]`, {
          pattern: glob,
        });
      }
      let body = glob.slice(i + 1, end);
      const negate = body[0] === '^' || body[0] === '!';
      if (negate) body = body.slice(1);
      source += `[${negate ? '^' : ''}${body.replace(/[\\\]^]/g, '\\$&')}]`;
      i = end;
    } else source += c.replace(REGEX_SPECIAL, '\\$&');
  }
  return new RegExp(`${source}$`);
}
