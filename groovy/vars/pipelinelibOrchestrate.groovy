import io.pipelinelib.Args

/**
 * orchestrate: the Terraform wrapper with the stack conventions.
 *
 *   pipelinelibOrchestrate('init', 'appcluster-test', 'ap-southeast-2')
 *   pipelinelibOrchestrate('apply', 'appcluster-test', 'ap-southeast-2', [confirmLive: false, importDir: 'import'])
 *   pipelinelibOrchestrate(command: 'destroy', stack: 'appcluster-test')
 *
 * Options: confirmLive (false), importDir, root ('.' when the job runs inside the Terraform
 * folder), runner (native|docker), buildsStyle (map|legacy: legacy passes -var SERVICE-build=N to
 * stacks not migrated yet), dryRun (false), tfArgs (list of extra terraform arguments, after --).
 */
def call(String command, String stack, String region = 'ap-southeast-2', Map opts = [:]) {
    return call([command: command, stack: stack, region: region] + opts)
}

def call(Map args) {
    String region = args.region ?: 'ap-southeast-2'
    String problem = Args.problemWithOrchestrateCommand(args.command) ?:
        Args.problemWithPattern(args.stack, Args.STACK_PATTERN, 'stack name') ?:
        Args.problemWithPattern(region, Args.REGION_PATTERN, 'region')
    if (problem == null && args.importDir != null) {
        problem = Args.problemWithPattern(args.importDir, Args.RELATIVE_DIR_PATTERN, 'import directory')
    }
    if (problem == null && args.root != null && args.root != '.') {
        problem = Args.problemWithPattern(args.root, Args.RELATIVE_DIR_PATTERN, 'terraform root')
    }
    if (problem == null && args.runner != null && !(args.runner in ['native', 'docker'])) {
        problem = "unknown runner ${Args.describe(args.runner)}: use native or docker"
    }
    if (problem == null && args.buildsStyle != null && !(args.buildsStyle in ['map', 'legacy'])) {
        problem = "unknown builds style ${Args.describe(args.buildsStyle)}: use map or legacy"
    }
    if (problem != null) {
        error("pipelinelibOrchestrate: ${problem}")
    }
    List<String> argv = ['orchestrate', args.command.toString(), args.stack.toString(), region]
    if (args.root != null) {
        argv << "--root=${args.root}".toString()
    }
    if (args.importDir != null) {
        argv << "--import-dir=${args.importDir}".toString()
    }
    if (args.runner != null) {
        argv << "--runner=${args.runner}".toString()
    }
    if (args.buildsStyle != null) {
        argv << "--builds-style=${args.buildsStyle}".toString()
    }
    if (args.dryRun) {
        argv << '--dry-run'
    }
    if (args.confirmLive) {
        argv << '--confirm-live'
    }
    List tfArgs = args.tfArgs ?: []
    if (!tfArgs.isEmpty()) {
        argv << '--'
        tfArgs.each { argv << it.toString() }
    }
    return pipelinelibCli(argv)
}
