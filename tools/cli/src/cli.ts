// What the commands share: the I/O they write to, exit statuses, the usage text.

export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  /** Paths on the command line are relative to it. */
  cwd: string;
}

export const EXIT = { ok: 0, invalid: 1, usage: 2 } as const;

export const USAGE = `Usage:
  stratum tosca validate <file|csar> [--format text|json] [--input name=value]...
      Checks a Stratum TOSCA template: TOSCA 1.3 with the Stratum profile and the processor rules
      (docs/tosca-profile.md). Exit 0 valid, 1 invalid, 2 usage error. Diagnostics on stderr
      (file:line:column: error CODE: message (path)); --format json prints them as a JSON array on stdout.

  stratum tosca translate <file|csar> --tenant-view <json> [--stack <name>] [--out <dir>]
                          [--format yaml|json] [--input name=value]...
      Also checks the template against the tenant's resources (rule 10) and translates it: the
      Kubernetes objects as multi-document YAML on stdout, or with --out one file per unit at
      <dir>/<network>/<service>.yaml plus <dir>/autoscaling.json and <dir>/plan.json.
      --stack defaults to the template's metadata.template_name. --format json prints
      { ok, diagnostics, plan } on stdout instead.
`;
