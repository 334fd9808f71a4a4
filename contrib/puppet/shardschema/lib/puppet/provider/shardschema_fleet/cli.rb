require_relative '../../../puppet_x/shardschema/cli'

Puppet::Type.type(:shardschema_fleet).provide(:cli) do
  desc 'Runs `shardschema apply --json FILE` (with --check to see whether anything is to do).'

  # The plan of `apply --check`: a refusal (a registered version differs from its declaration) fails here, so also
  # under --noop.
  def plan
    @plan ||= apply_command(['--check'])[1]
  end

  # What the real apply did.
  attr_reader :report

  def apply
    exit, @report = apply_command([], ok: [0, 3])
    return if exit.zero?
    rollout = @report['rollout']
    raise Puppet::Error, "#{@report['summary']}: #{rollout['failed']} shards failed (see `shardschema status`)"
  end

  private

  def apply_command(flags, ok: [0])
    flags += ['--run'] if resource[:run]
    PuppetX::Shardschema::Cli.run(resource[:executable], resource[:config], ['apply', resource[:file]] + flags, ok: ok)
  end
end
