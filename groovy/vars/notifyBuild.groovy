import io.pipelinelib.Texts

/**
 * Slack notification of a build's status, coloured as the old pipelines did: STARTED yellow,
 * SUCCESS green, anything else red (UNSTABLE orange). Values from the build (job name, display
 * name) are escaped for Slack, so a commit message cannot mention @channel or forge a link.
 *
 *   post { always { notifyBuild(currentBuild.currentResult) } }
 *
 * Options (second argument): channel, and failOnError (false: a Slack outage never fails a deploy).
 */
def call(String buildStatus = 'STARTED', Map opts = [:]) {
    String status = buildStatus ?: 'SUCCESS'
    String subject = "${status}: [#${Texts.slackEscape(env.BUILD_NUMBER)}] ${Texts.slackEscape(env.JOB_NAME)}"
    String name = Texts.firstLine(currentBuild.displayName)
    String message = subject
    if (name && name != "#${env.BUILD_NUMBER}".toString()) {
        message += " ${Texts.slackEscape(name)}"
    }
    if (env.BUILD_URL) {
        message += " (<${Texts.slackEscape(env.BUILD_URL)}|open>)"
    }
    Map slack = [color: Texts.colour(status), message: message.toString(), failOnError: opts.failOnError ? true : false]
    if (opts.channel) {
        slack.channel = opts.channel.toString()
    }
    slackSend(slack)
}
