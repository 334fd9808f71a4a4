package io.shardschema.cli;

import io.shardschema.catalog.OnlineCatalog;
import picocli.CommandLine.Command;

@Command(name = "approve", mixinStandardHelpOptions = true, description = "Open the approval gate of an online version: its tasks go on to copy. Without --shard: every shard's task, also those that have not prepared yet.")
final class ApproveCommand extends GateCommand {
    ApproveCommand(Context context) {
        super(context);
    }

    @Override
    OnlineCatalog.GateResult apply(OnlineCatalog online, int version, Long shard) {
        return online.approve(version, shard);
    }

    @Override
    String verb() {
        return "approved";
    }
}
