#!/usr/bin/python
# -*- coding: utf-8 -*-

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: apply
short_description: Bring a ShardSchema fleet to the state a YAML file declares
description:
  - Runs C(shardschema apply --json PATH) on the managed host, which registers the shards and versions the file
    declares that the catalog lacks (and, with C(prune) set in the file, removes the shards it no longer declares).
  - With I(run), also rolls the versions out (as C(shardschema run)) and waits until no task is left.
  - The file's format is described in ShardSchema's README (C(shardschema apply)).
  - A version already in the catalog that differs from its declaration, or a catalog version the file does not
    declare, is refused and nothing is written.
version_added: 0.1.0
author: ShardSchema maintainers
requirements:
  - C(shardschema) on the managed host, with a configuration that names the catalog (C(dbDSN)).
options:
  path:
    description:
      - The fleet's YAML file on the managed host. Relative C(file:) paths in it are relative to its folder.
      - A leading C(~) is expanded; environment variables are not.
    type: str
    required: true
  run:
    description:
      - Also roll out what is missing and wait until no task is left.
      - Some shards failing, or refused by a safety check, fails the task (the result is still returned).
    type: bool
    default: false
  executable:
    description:
      - The C(shardschema) executable, a name looked up on C(PATH) or a path.
    type: str
    default: shardschema
  config:
    description:
      - ShardSchema's configuration file (C(--config)). Without it C(shardschema) uses C($SHARDSCHEMA_CONFIG), else
        C(/etc/ShardSchema.cnf).
      - Keep the catalog's password in this file, never on a command line.
    type: str
  workers:
    description:
      - Worker pool size of the rollout (C(--workers)); without it the configuration's C(workers).
    type: int
attributes:
  check_mode:
    support: full
    description: Runs C(shardschema apply --check), which reads the servers and writes nothing.
  diff_mode:
    support: full
    description: Lists the shards and versions added and removed.
notes:
  - Every run reads the servers of the file's C(discover) rules, also in check mode.
'''

EXAMPLES = r'''
- name: Register the fleet's shards and versions
  shardschema.fleet.apply:
    path: /etc/shardschema/fleet.yaml
    config: /etc/shardschema/catalog.cnf

- name: Register them and roll them out with 16 workers
  shardschema.fleet.apply:
    path: /etc/shardschema/fleet.yaml
    config: /etc/shardschema/catalog.cnf
    run: true
    workers: 16
  register: rollout

- name: Show what it did
  ansible.builtin.debug:
    msg: "{{ rollout.summary }}"
'''

RETURN = r'''
result:
  description:
    - The JSON document C(shardschema apply --json) printed (C(shards), C(versions), C(rollout), C(summary), ...).
    - Under check mode, the plan.
  returned: when shardschema ran to the end (also when the rollout failed or was refused on some shards)
  type: dict
  sample:
    file: /etc/shardschema/fleet.yaml
    check: false
    changed: true
    shards: {added: [{id: 7, schema: app_1, server: "10.0.3.87:3306"}], removed: [], unchanged: 12}
    versions: {added: [{version: 3, table: users, type: sql, statement: "ALTER TABLE `users` ADD COLUMN c INT"}],
               unchanged: 2}
    rollout: {latest: 3, behind: 13, ran: true, applied: 13, failed: 0}
    summary: added 1 shard and 1 version; 13 shards behind version 3
summary:
  description: ShardSchema's one-line summary of what was (under check mode, would be) done.
  returned: when shardschema ran to the end
  type: str
  sample: added 1 shard and 1 version; 13 shards behind version 3
rc:
  description: The exit code of shardschema.
  returned: always
  type: int
stderr:
  description: What shardschema logged (no password is ever in it).
  returned: on failure
  type: str
'''

import json
import os

from ansible.module_utils.basic import AnsibleModule

# Exit codes of `apply --run` after a rollout, which still print the JSON result.
ROLLOUT_FAILURES = {3: 'some shards failed', 4: 'some shards were refused by a safety check'}


def command(module):
    p = module.params
    executable = p['executable']
    if os.sep in executable:
        executable = os.path.abspath(os.path.expanduser(executable))
    else:
        executable = module.get_bin_path(executable, required=True)
    args = [executable]
    # Absolute paths: a file name starting with '-' can then never be read as an option.
    if p['config'] is not None:
        args += ['--config', absolute(p['config'])]
    args.append('apply')
    if module.check_mode:
        args.append('--check')
    if p['run']:
        args.append('--run')
    if p['workers'] is not None:
        args += ['--workers', str(p['workers'])]
    args += ['--json', absolute(p['path'])]
    return args


def absolute(path):
    return os.path.abspath(os.path.expanduser(path))


def error_message(stderr, rc):
    """The message of shardschema's last `error: ` line and the lines after it (a message may span lines)."""
    lines = stderr.splitlines()
    for i in range(len(lines) - 1, -1, -1):
        if lines[i].startswith('error: '):
            return '\n'.join([lines[i][len('error: '):]] + lines[i + 1:]).strip()
    tail = '\n'.join(lines[-5:]).strip()
    return 'shardschema exited %d%s' % (rc, ': ' + tail if tail else '')


def parsed(stdout):
    try:
        result = json.loads(stdout)
    except ValueError:
        return None
    return result if isinstance(result, dict) else None


def listing(result, added):
    """One side of the diff: the items in both states, then those only on this side (added or removed)."""
    shards = result.get('shards', {})
    versions = result.get('versions', {})
    lines = ['%d shards unchanged' % shards.get('unchanged', 0)]
    for s in shards.get('added' if added else 'removed', []):
        lines.append('shard %s on %s' % (s.get('schema'), s.get('server')))
    lines.append('%d versions unchanged' % versions.get('unchanged', 0))
    if added:
        for v in versions.get('added', []):
            lines.append('version %s (%s on %s): %s' % (v.get('version'), v.get('type'), v.get('table'),
                                                        v.get('statement')))
    return '\n'.join(lines) + '\n'


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type='str', required=True),
            run=dict(type='bool', default=False),
            executable=dict(type='str', default='shardschema'),
            config=dict(type='str'),
            workers=dict(type='int'),
        ),
        supports_check_mode=True,
    )
    # An argument list, no shell, and no expansion of '$' or '~' inside the arguments: they are used as given.
    rc, stdout, stderr = module.run_command(command(module), expand_user_and_vars=False)
    result = parsed(stdout)
    if result is None:
        # Usage errors, refused declarations, unreachable servers: nothing was written, stdout is empty.
        msg = error_message(stderr, rc) if rc != 0 else 'shardschema printed no JSON result'
        module.fail_json(msg=msg, rc=rc, stdout=stdout, stderr=stderr)
    out = dict(changed=bool(result.get('changed')), result=result, summary=result.get('summary', ''), rc=rc)
    if module._diff:
        out['diff'] = dict(before=listing(result, added=False), after=listing(result, added=True))
    for note in result.get('notes', []):
        module.warn(note)
    if rc != 0:
        # The rollout ran and some shards failed (3) or were refused by a safety check (4): the result says which.
        reason = ROLLOUT_FAILURES.get(rc, 'shardschema exited %d' % rc)
        module.fail_json(msg='%s: %s; `shardschema status` and `shardschema log` say why' % (reason, out['summary']),
                         stderr=stderr, **out)
    module.exit_json(**out)


if __name__ == '__main__':
    main()
