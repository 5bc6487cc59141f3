/**
 * The pg adapter sends a Date as UTC wall-clock text without an offset and reads a timestamptz as
 * if its offset were +00, so every connection runs in UTC: times are then instants whatever the zone
 * of the server, the database, the role or any process. Set at connection start, where no
 * statement can forget it; an `options` already in the URL is kept.
 */
export function utcConnections(databaseUrl: string): { connectionString: string; options: string } {
  const url = new URL(databaseUrl);
  const options = [url.searchParams.get('options'), '-c TimeZone=UTC'].filter(Boolean).join(' ');
  // pg lets the URL's parameters override the configuration's, so the merged options leave the URL.
  url.searchParams.delete('options');
  return { connectionString: url.toString(), options };
}
