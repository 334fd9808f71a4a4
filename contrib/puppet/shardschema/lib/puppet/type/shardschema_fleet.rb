require_relative '../../puppet_x/shardschema/cli'

Puppet::Type.newtype(:shardschema_fleet) do
  @doc = <<~DOC
    A fleet's desired state, as a `shardschema apply` YAML file: its shards and versions are registered (and, with
    run => true, rolled out). In sync when `shardschema apply --check` would change nothing.

        shardschema_fleet { '/etc/shardschema/fleet.yaml':
          ensure => applied,
          run    => true,
          config => '/etc/ShardSchema.cnf',
        }
  DOC

  newparam(:file, namevar: true) do
    desc 'The fleet YAML file (absolute path).'
    validate { |v| raise ArgumentError, 'file must be an absolute path' unless Puppet::Util.absolute_path?(v) }
  end

  newparam(:run, boolean: true, parent: Puppet::Parameter::Boolean) do
    desc 'Also roll the versions out (apply --run): in sync only when no shard is behind.'
    defaultto false
  end

  PuppetX::Shardschema::Cli.add_command_params(self, :file)

  newproperty(:ensure) do
    desc 'applied: the catalog holds what the file declares.'
    defaultto :applied

    newvalue(:applied) { provider.apply }

    # pending: `apply --check` found something to do.
    def retrieve
      provider.plan['changed'] ? :pending : :applied
    end

    # With --noop this is what the event shows: what apply would do.
    def is_to_s(value)
      value == :pending ? "pending (#{provider.plan['summary']})" : value.to_s
    end

    def change_to_s(_current, _should)
      "applied: #{provider.report['summary']}"
    end
  end
end
