require 'json'
require 'open3'

module PuppetX
  module Shardschema
    # The shardschema command line, as the providers call it: always with --json, arguments as an array (no shell
    # sees them), values attached to their option (--table=T) so a value starting with '-' stays a value.
    module Cli
      # Runs `executable [--config FILE] ARGS... --json` and returns [exit status, parsed JSON]. An exit status not in
      # ok raises Puppet::Error with ShardSchema's own message (stderr's "error: ..." text).
      def self.run(executable, config, args, ok: [0])
        argv = [executable]
        argv += ["--config=#{config}"] if config
        argv += args + ['--json']
        begin
          # argv has at least two elements, so Ruby executes it directly, never through /bin/sh.
          stdout, stderr, status = Open3.capture3(*argv)
        rescue SystemCallError => e
          raise Puppet::Error, "cannot run #{executable}: #{e.message}"
        end
        unless ok.include?(status.exitstatus)
          how = status.exitstatus ? "exit #{status.exitstatus}" : "killed by signal #{status.termsig}"
          raise Puppet::Error, "shardschema #{command_name(args)} failed (#{how}): #{error_message(stderr, stdout)}"
        end
        begin
          [status.exitstatus, JSON.parse(stdout)]
        rescue JSON::ParserError => e
          raise Puppet::Error, "shardschema #{command_name(args)} printed no JSON document: #{e.message}"
        end
      end

      # The resources of one type grouped by the catalog they talk to (executable and config), so that one listing
      # serves them all (prefetch): a per-resource listing of a big fleet would cost a JVM start and a full list each.
      def self.by_catalog(resources)
        resources.values.group_by { |r| [r[:executable], r[:config]] }
      end

      # "shard add", "apply /etc/fleet.yaml": the words before the options.
      def self.command_name(args)
        args.take_while { |a| !a.start_with?('-') }.first(2).join(' ')
      end

      # The message after "error: " (it may span lines, e.g. a diff); without one (apply --run refused by a guard
      # prints its report), the report's summary, else the end of stderr.
      def self.error_message(stderr, stdout)
        start = stderr.index(/^error: /)
        return stderr[(start + 'error: '.length)..].strip if start
        summary = begin
          JSON.parse(stdout)['summary']
        rescue JSON::ParserError, TypeError
          nil
        end
        summary || stderr.lines.last(5).join.strip
      end

      # The server a DSN points at, keyed as the catalog keys it (ShardSchema's Dsn.serverKey): "host:port" with the
      # host in lower case and 3306 by default, or "unix:/path". A shard is one schema on one server.
      def self.server_key(dsn)
        text = dsn.to_s.strip
        if (jdbc = %r{\Ajdbc:(?:mariadb|mysql)://([^/?]*)}i.match(text))
          address = jdbc[1]
        else
          at = [text.rindex('@tcp('), text.rindex('@unix(')].compact.max
          rest = at ? text[(at + 1)..] : text
          return '127.0.0.1:3306' if rest.start_with?('/')
          close = rest.index(')')
          raise Puppet::Error, 'dsn: expected tcp(host:port), unix(/path) or a jdbc: URL' unless close
          return "unix:#{rest[5...close]}" if rest.start_with?('unix(')
          raise Puppet::Error, 'dsn: expected tcp(host:port), unix(/path) or a jdbc: URL' unless rest.start_with?('tcp(')
          address = rest[4...close]
        end
        host, port = split_host_port(address)
        "#{host.downcase}:#{port ? Integer(port, 10) : 3306}"
      rescue ArgumentError
        raise Puppet::Error, 'dsn: the port is not a number'
      end

      def self.split_host_port(address)
        if address.start_with?('[')
          host, rest = address[1..].split(']', 2)
          return [host, rest.to_s.delete_prefix(':').then { |p| p.empty? ? nil : p }]
        end
        colon = address.rindex(':')
        colon ? [address[0...colon], address[(colon + 1)..]] : [address, nil]
      end

      # The parameters every shardschema type has: which executable, and which config file. The type's resources
      # require the File resources of these (and of file_params, the type's own file parameters).
      def self.add_command_params(type, *file_params)
        type.newparam(:executable) do
          desc 'The shardschema executable.'
          defaultto '/usr/local/bin/shardschema'
          validate { |v| raise ArgumentError, 'executable must be an absolute path' unless Puppet::Util.absolute_path?(v) }
        end
        type.newparam(:config) do
          desc "ShardSchema's config file (--config); default: shardschema's own choice (/etc/ShardSchema.cnf)."
          validate { |v| raise ArgumentError, 'config must be an absolute path' unless Puppet::Util.absolute_path?(v) }
        end
        paths = [:executable, :config] + file_params
        type.autorequire(:file) { paths.map { |p| self[p] }.compact }
      end
    end
  end
end
