# A pt-online-schema-change plugin of ShardSchema: with --preserve-triggers, pt-osc would drop its own triggers
# when it exits, and the shadow table would fall out of sync before ShardSchema's cut-over gate. This stops pt-osc
# right after its copy instead, with the shadow table and its triggers in place, as --no-drop-triggers does
# without --preserve-triggers; ShardSchema's cut-over moves the table's own triggers and swaps.
package pt_online_schema_change_plugin;
use strict;
use warnings FATAL => 'all';
use POSIX ();

sub new {
    my ($class, %args) = @_;
    return bless {}, $class;
}

sub after_copy_rows {
    print "Copy complete: ShardSchema stops pt-osc here; its triggers keep the shadow table in sync\n";
    POSIX::_exit(0);
}

1;
