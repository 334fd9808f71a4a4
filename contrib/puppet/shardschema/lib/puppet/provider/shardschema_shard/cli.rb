require_relative '../../../puppet_x/shardschema/cli'

Puppet::Type.type(:shardschema_shard).provide(:cli) do
  desc 'Uses `shardschema shard list` (once per run and catalog), `shard add` and `shard remove`.'

  # The catalog's shards, shared by all resources on that catalog and kept current by their changes.
  attr_writer :shards

  def self.prefetch(resources)
    PuppetX::Shardschema::Cli.by_catalog(resources).each do |(executable, config), group|
      shards = list(executable, config)
      group.each { |r| r.provider.shards = shards }
    end
  end

  # Every registered shard, a page at a time.
  def self.list(executable, config)
    all = []
    loop do
      page = PuppetX::Shardschema::Cli.run(executable, config,
                                           ['shard', 'list', "--offset=#{all.size}", '--limit=1000'])[1]
      all.concat(page['shards'])
      return all if page['shards'].empty? || all.size >= page['total']
    end
  end

  def exists?
    !registered.nil?
  end

  def create
    added = cli(['shard', 'add', "--schema=#{resource[:schema]}", "--dsn=#{resource[:dsn]}"])
    shards << { 'id' => added['shardId'], 'schemaName' => resource[:schema], 'serverKey' => server_key }
  end

  def destroy
    shard = registered
    cli(['shard', 'remove', shard['id'].to_s])
    shards.delete(shard)
  end

  private

  # The catalog's shard with this schema on this server, or nil.
  def registered
    shards.find { |s| s['schemaName'] == resource[:schema] && s['serverKey'] == server_key }
  end

  def server_key
    PuppetX::Shardschema::Cli.server_key(resource[:dsn])
  end

  def shards
    @shards ||= self.class.list(resource[:executable], resource[:config])
  end

  def cli(args)
    PuppetX::Shardschema::Cli.run(resource[:executable], resource[:config], args)[1]
  end
end
