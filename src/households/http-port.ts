import type { Reporter } from './reporter.ts';
import type { HouseholdService } from './service.ts';
import type { HouseholdsStore } from './store.ts';

/** What the HTTP routes need of households; `HouseholdsModule` satisfies it as is. */
export interface HouseholdsPort {
  service: Pick<
    HouseholdService,
    | 'fileComplaint'
    | 'recordMeasurement'
    | 'caseDetail'
    | 'createWorkOrder'
    | 'fieldStatus'
    | 'callBack'
    | 'closeComplaint'
  >;
  store: Pick<
    HouseholdsStore,
    'listCases' | 'tasks' | 'complaints' | 'workOrders' | 'outboxItems' | 'reports' | 'getReport'
  >;
  reporter: Pick<Reporter, 'runDigest' | 'runBulletin' | 'seasonReview'>;
}
