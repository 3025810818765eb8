import io.pipelinelib.Args

/**
 * Clears what an earlier build of this job left in the workspace, so nothing stale can be
 * recorded or archived: the output directory (re-archived env files and manifest) is deleted and
 * the rollout outcome file is emptied (pipelinelibRecordDeployment reads it). Run it first in
 * every stage that records a deployment.
 *
 *   pipelinelibResetWorkspace()                                   // output/ and rollout.json
 *   pipelinelibResetWorkspace(outputDir: 'out', rollout: 'rollout.json')
 */
def call(Map args = [:]) {
    String outputDir = args.outputDir ?: 'output'
    String rollout = args.rollout ?: 'rollout.json'
    String problem = Args.problemWithPattern(outputDir, Args.RELATIVE_DIR_PATTERN, 'output directory') ?:
        Args.problemWithPattern(rollout, Args.RELATIVE_DIR_PATTERN, 'rollout file')
    if (problem != null) {
        error("pipelinelibResetWorkspace: ${problem}")
    }
    dir(outputDir) {
        deleteDir()
    }
    writeFile(file: rollout, text: '')
}
