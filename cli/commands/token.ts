/** `harrow token create|list|revoke`: named API tokens with roles (admin only). */
import { DURATION_PATTERN, ProjectScopeSchema, ROLES, TOKEN_NAME_PATTERN, type Role } from '../../protocol/auth-api.js';
import { UsageError } from '../command.js';
import { formatAge, renderTable, type Cell } from '../format.js';
import { defineApiVerb, parseCliArgs, positionalArgs } from './api-verb.js';

const USAGE = `Usage: harrow token create NAME --role ROLE [--expires 90d] [--project P]... [--json]
       harrow token list [--json]
       harrow token revoke NAME [--json]

Named API tokens (needs an admin token: HARROW_TOKEN or a token with the admin role).
Roles: viewer reads; member also creates and steers sweeps; admin also manages tokens and
deletes; agent only claims, heartbeats and reports runs over HTTP.

create prints the new token once: the server keeps only its hash. Give it to its user, who sets
it as HARROW_TOKEN (CLI) or pastes it into the dashboard.

Options:
  --role ROLE      ${ROLES.join(', ')}
  --expires D      lifetime: a number of days, hours or minutes (90d, 12h, 30m); default never
  --project P      only sweeps whose sweep file says project: P (or entity/project: E/P); repeat for more
  --json           print the server's response as JSON (create: includes { "token": ... })

Environment: HARROW_URL (default http://127.0.0.1:8080), HARROW_TOKEN.`;

export const tokenCommand = defineApiVerb({
  name: 'token',
  usage: USAGE,
  async run(argv, ctx) {
    // One parse for every subcommand, so an unknown option is reported as such wherever it is.
    const { values, positionals: all } = parseCliArgs(argv, { role: { type: 'string' }, expires: { type: 'string' }, project: { type: 'string', multiple: true }, json: { type: 'boolean' } });
    const [sub, ...positionals] = all;
    if (sub !== 'create' && (values.role !== undefined || values.expires !== undefined || values.project !== undefined)) {
      throw new UsageError('--role, --expires and --project go with `harrow token create`');
    }
    switch (sub) {
      case 'create': {
        const [name] = positionalArgs(positionals, ['NAME'], 'give the new token a name, such as the person or machine that will use it');
        if (!TOKEN_NAME_PATTERN.test(name)) throw new UsageError(`NAME '${name}': use 1 to 64 letters, digits, _ . @ or -, starting with a letter or digit`);
        if (values.role === undefined) throw new UsageError(`--role is required: one of ${ROLES.join(', ')}`);
        if (!(ROLES as readonly string[]).includes(values.role)) throw new UsageError(`--role '${values.role}': use one of ${ROLES.join(', ')}`);
        if (values.expires !== undefined && !DURATION_PATTERN.test(values.expires)) throw new UsageError(`--expires '${values.expires}': use a number of days, hours or minutes such as 90d, 12h or 30m`);
        const projects = values.project;
        for (const p of projects ?? []) if (!ProjectScopeSchema.safeParse(p).success) throw new UsageError(`--project '${p}': use project or entity/project`);
        const created = await ctx.client().createToken({
          name,
          role: values.role as Role,
          ...(values.expires === undefined ? {} : { expires: values.expires }),
          ...(projects === undefined ? {} : { projects }),
        });
        if (values.json) ctx.out.json(created);
        else {
          ctx.out.line(
            `Created token '${created.name}' (${created.role}${created.projects ? `, projects ${created.projects.join(', ')}` : ''}${created.expiresAt ? `, expires ${created.expiresAt}` : ''}).`,
            'It is shown only now; the server keeps only its hash:',
            '',
            `  ${created.token}`,
            '',
          );
        }
        return 0;
      }
      case 'list': {
        positionalArgs(positionals, [], '');
        const tokens = await ctx.client().listTokens();
        if (values.json) ctx.out.json({ tokens });
        else if (tokens.length === 0) ctx.out.line('No named tokens. `harrow token create NAME --role ROLE` makes one.');
        else {
          const now = ctx.now();
          const rows: Cell[][] = tokens.map((t) => [t.name, t.role, t.projects?.join(',') ?? 'all', t.createdBy, formatAge(t.createdAt, now), t.expiresAt ?? 'never']);
          ctx.out.line(
            ...renderTable([{ header: 'NAME' }, { header: 'ROLE' }, { header: 'PROJECTS', shrink: true, maxWidth: 40 }, { header: 'CREATED BY' }, { header: 'CREATED' }, { header: 'EXPIRES' }], rows, {
              style: ctx.out.style,
              width: ctx.out.columns,
            }),
          );
        }
        return 0;
      }
      case 'revoke': {
        const [name] = positionalArgs(positionals, ['NAME'], 'give the name `harrow token list` shows');
        const revoked = await ctx.client().revokeToken(name);
        if (values.json) ctx.out.json(revoked);
        else ctx.out.line(`Revoked token '${revoked.name}': it no longer works.`);
        return 0;
      }
      default:
        throw new UsageError(sub === undefined ? 'give a subcommand: create, list or revoke' : `unknown subcommand '${sub}': use create, list or revoke`);
    }
  },
});
