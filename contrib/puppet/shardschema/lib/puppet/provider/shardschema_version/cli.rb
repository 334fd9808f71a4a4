require_relative '../../../puppet_x/shardschema/cli'

Puppet::Type.type(:shardschema_version).provide(:cli) do
  desc 'Uses `shardschema version list` (once per run and catalog) and `version add`.'

  # The catalog's versions, shared by all resources on that catalog and kept current by their additions.
  attr_writer :versions

  def self.prefetch(resources)
    PuppetX::Shardschema::Cli.by_catalog(resources).each do |(executable, config), group|
      versions = list(executable, config)
      group.each { |r| r.provider.versions = versions }
    end
  end

  def self.list(executable, config)
    PuppetX::Shardschema::Cli.run(executable, config, %w[version list])[1]['versions']
  end

  # Registered and the same: true; registered otherwise: an error (a version is never changed in place).
  def exists?
    found = versions.find { |v| v['number'] == number }
    return false unless found
    differing = { table: 'tableName', command: 'command', type: 'type' }.reject { |param, key| found[key] == resource[param] }
    return true if differing.empty?
    raise Puppet::Error, "version #{number} is registered with another #{differing.keys.join(' and ')}: " +
                         differing.map { |param, key| "#{param} #{found[key].inspect}, declared #{resource[param].inspect}" }
                                  .join('; ') +
                         '. Versions are immutable history: declare what is registered, and make the change a new version'
  end

  def create
    next_number = versions.map { |v| v['number'] }.max.to_i + 1
    unless number == next_number
      raise Puppet::Error, "version #{number} cannot be added: the next version is #{next_number}"
    end
    added = cli(['version', 'add', "--table=#{resource[:table]}", "--command=#{resource[:command]}",
                 "--type=#{resource[:type]}"])
    versions << { 'number' => added['version'], 'tableName' => resource[:table], 'command' => resource[:command],
                  'type' => resource[:type] }
    return if added['version'] == number
    # Another writer registered a version between our list and add.
    raise Puppet::Error, "shardschema registered the change as version #{added['version']}, not #{number}"
  end

  private

  def number
    resource[:version]
  end

  def versions
    @versions ||= self.class.list(resource[:executable], resource[:config])
  end

  def cli(args)
    PuppetX::Shardschema::Cli.run(resource[:executable], resource[:config], args)[1]
  end
end
