package io.shardschema.cli;

import io.shardschema.catalog.OnlineCatalog;
import picocli.CommandLine.Command;

@Command(name = "cancel", mixinStandardHelpOptions = true, description = "Stop an online version's started tasks before their cut-over: pt-osc stops, its triggers and shadow table are removed, the original table stays untouched, and the shard is failed until `retry` starts the change over.")
final class CancelCommand extends GateCommand {
    CancelCommand(Context context) {
        super(context);
    }

    @Override
    OnlineCatalog.GateResult apply(OnlineCatalog online, int version, Long shard) {
        return online.cancel(version, shard);
    }

    @Override
    String verb() {
        return "cancel requested";
    }
}
