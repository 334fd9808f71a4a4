require_relative '../../puppet_x/shardschema/cli'

Puppet::Type.newtype(:shardschema_shard) do
  @doc = <<~DOC
    One registered shard: a schema on a server. Present when the catalog has that schema on that server
    (host:port, or socket); the DSN's user and options are used when the shard is added.

        shardschema_shard { 'app_1':
          dsn => 'ddl@tcp(db1.example.com:3306)/',
        }

    Put no password in dsn: it would be on shardschema's command line. Runners find it in the config's
    defaultsFile, or use the catalog's when the shard is on the catalog's server.
  DOC

  ensurable do
    defaultvalues
    defaultto :present
  end

  newparam(:name, namevar: true) do
    desc 'A label; also the schema when schema is not given.'
  end

  newparam(:schema) do
    desc 'The schema (default: the title).'
    defaultto { @resource[:name] }
  end

  newparam(:dsn) do
    desc 'The server, as `shard add --dsn` takes it: user@tcp(host:port)/, user@unix(/path)/ or a jdbc: URL.'
  end

  PuppetX::Shardschema::Cli.add_command_params(self)

  validate do
    raise ArgumentError, 'dsn is required' unless self[:dsn]
  end
end
