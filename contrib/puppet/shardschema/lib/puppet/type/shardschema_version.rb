require_relative '../../puppet_x/shardschema/cli'

Puppet::Type.newtype(:shardschema_version) do
  @doc = <<~DOC
    One registered version. Versions are immutable history: one registered with another table, command or type is
    an error, never changed; a missing one is added only when it is the next number.

        shardschema_version { '3':
          table   => 'users',
          command => 'ADD COLUMN last_login DATETIME NULL',
        }
  DOC

  ensurable do
    newvalue(:present) { provider.create }
    defaultto :present
  end

  newparam(:version, namevar: true) do
    desc 'The version number.'
    munge { |v| Integer(v.to_s, 10) }
    validate do |v|
      raise ArgumentError, "version must be a number from 1, not #{v.inspect}" unless v.to_s =~ /\A[1-9][0-9]*\z/
    end
  end

  newparam(:table) do
    desc 'The table the change is on.'
  end

  newparam(:command) do
    desc 'The change: the body of ALTER TABLE table ..., or a whole CREATE/DROP/RENAME TABLE statement.'
  end

  newparam(:type) do
    desc 'How it is applied: sql or pt-osc.'
    defaultto 'sql'
    validate { |v| raise ArgumentError, "type must be sql or pt-osc, not #{v.inspect}" unless %w[sql pt-osc].include?(v) }
  end

  PuppetX::Shardschema::Cli.add_command_params(self)

  validate do
    raise ArgumentError, 'table and command are required' unless self[:table] && self[:command]
  end
end
