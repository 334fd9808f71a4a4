require_relative '../../../puppet_x/shardschema/cli'

Puppet::Type.type(:shardschema_shard).provide(:cli) do
  desc 'Uses `shardschema shard list`, `shard add` and `shard remove`.'

  def exists?
    !registered.nil?
  end

  def create
    cli(['shard', 'add', "--schema=#{resource[:schema]}", "--dsn=#{resource[:dsn]}"])
  end

  def destroy
    cli(['shard', 'remove', registered['id'].to_s])
  end

  private

  # The catalog's shard with this schema on this server, or nil.
  def registered
    server = PuppetX::Shardschema::Cli.server_key(resource[:dsn])
    shards.find { |s| s['schemaName'] == resource[:schema] && s['serverKey'] == server }
  end

  # Every registered shard, a page at a time.
  def shards
    @shards ||= all_shards
  end

  def all_shards
    all = []
    loop do
      page = cli(['shard', 'list', "--offset=#{all.size}", '--limit=1000'])
      all.concat(page['shards'])
      return all if page['shards'].empty? || all.size >= page['total']
    end
  end

  def cli(args)
    PuppetX::Shardschema::Cli.run(resource[:executable], resource[:config], args)[1]
  end
end
