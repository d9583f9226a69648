/** Wire types, taken from the API's own schemas (type-only: nothing of zod reaches the bundle). */
import type { z } from 'zod';
import type {
  buildingDetailSchema,
  buildingHistorySchema,
  buildingSummarySchema,
  complianceSchema,
  substationDetailSchema,
  substationHistorySchema,
  substationSummarySchema,
  weatherSchema,
} from '../http/schemas.ts';

export type BuildingSummary = z.output<typeof buildingSummarySchema>;
export type BuildingDetail = z.output<typeof buildingDetailSchema>;
export type BuildingHistory = z.output<typeof buildingHistorySchema>;
export type SubstationSummary = z.output<typeof substationSummarySchema>;
export type SubstationDetail = z.output<typeof substationDetailSchema>;
export type SubstationHistory = z.output<typeof substationHistorySchema>;
export type Weather = z.output<typeof weatherSchema>;
export type Compliance = z.output<typeof complianceSchema>;

export type { CaseDetail, CaseRow, TicketView as Ticket } from '../http/schemas.ts';
export type { LiveReading } from '../http/wire.ts';

/** What a page gives the router: a way to stop its timers and streams when the view changes. */
export interface PageHandle {
  dispose(): void;
}
