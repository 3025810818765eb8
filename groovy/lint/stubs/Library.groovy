import java.lang.annotation.Retention
import java.lang.annotation.RetentionPolicy

/**
 * Compile-time stub of org.jenkinsci.plugins.workflow.libs.Library (pipeline-groovy-lib,
 * src/main/java/org/jenkinsci/plugins/workflow/libs/Library.java: String[] value, boolean
 * changelog). Jenkins imports it into every Jenkinsfile by itself; CodeNarc cannot, so the stub is
 * in the default package and `@Library('pipelinelib') _` resolves when a Jenkinsfile is analysed.
 */
@Retention(RetentionPolicy.SOURCE)
@interface Library {
    String[] value()

    boolean changelog() default true
}
