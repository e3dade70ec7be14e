// The tracks of the API: list, add (checked with the provider), show, remove (the track's own alert resolved).
import { trackTargetSchema } from '../config/schema';
import { describeIssue } from '../config/load';
import { InvalidInputError, TrackNotFoundError } from '../model/errors';
import { TrackStore, trackOfTarget, verifyTarget } from '../store/tracks';
import { untrack } from '../alerts/untrack';
import { actorOf } from './auth/authenticate';
import { readJsonObject, sendJson } from './http';
import type { ApiDeps, Handler } from './deps';

/** POST /tracks: the CLI's track schema, plus `verify` (default true: ask the provider whether the run exists). */
function parseTrackBody(body: unknown) {
  const { verify = true, ...rest } = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  if (typeof verify !== 'boolean') throw new InvalidInputError('verify: expected a boolean');
  const parsed = trackTargetSchema.safeParse(rest);
  if (!parsed.success) throw new InvalidInputError(describeIssue(parsed.error));
  return { ...parsed.data, verify };
}

export function defineTrackRoutes(route: (method: string, path: string, handler: Handler) => void, d: ApiDeps): void {
  const tracks = new TrackStore(d.redis, d.keys, d.clock, d.scripts);
  route('GET', '/tracks', async (_q, res) => sendJson(res, 200, { tracks: await tracks.list() }));
  route('POST', '/tracks', async (req, res) => {
    const body = parseTrackBody(await readJsonObject(req));
    const provider = d.providers.get(body.provider);
    if (!provider) throw new InvalidInputError(`provider: unknown provider "${body.provider}" (configured: ${[...d.providers.keys()].join(', ')})`);
    const track = { ...trackOfTarget(body, 'api', d.clock.now()), createdBy: actorOf(req, undefined) };
    if (body.verify) await verifyTarget(track, provider);
    const added = await tracks.add(track);
    sendJson(res, added ? 201 : 200, { track: added ? track : await tracks.get(track.id), added });
  });
  route('GET', '/tracks/:id', async (_q, res, p) => sendJson(res, 200, { track: await tracks.require(p.id!) }));
  route('DELETE', '/tracks/:id', async (_q, res, p) => {
    if (!(await untrack(tracks, d.alerts, p.id!, d.clock.now()))) throw new TrackNotFoundError(p.id!);
    res.writeHead(204).end();
  });
}
